#!/bin/sh
# Starts the local PostgreSQL cluster if it is down and creates the database named in
# DATABASE_URL's path (default "esure"); the test runner creates test_<name> from it.
set -e
HOST=127.0.0.1 PORT=5432 DB=${1:-esure}
if ! pg_isready -q -h $HOST -p $PORT; then
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    echo "Starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    for _ in $(seq 1 30); do pg_isready -q -h $HOST -p $PORT && break; sleep 1; done
fi
exists=$(psql -h $HOST -p $PORT -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")
[ "$exists" = 1 ] || createdb -h $HOST -p $PORT -U postgres "$DB"
