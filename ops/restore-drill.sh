#!/bin/sh
# The restore drill (docs/operations.md, "Restore drill"), run by `make restore-drill` and, short,
# by `make test` (tests/ops/test_restore_drill.py). It proves on this machine that a backup of
# esure — the PostgreSQL database, the stored PDFs and the two secrets, kept apart — restores into
# a working registry:
#   1. seed    a source database of its own (${DRILL_PREFIX}_src) through the real services,
#              PDFs in a temporary MEDIA_ROOT (or a bucket of its own, DRILL_S3_ENDPOINT_URL),
#              fresh random secrets; check it once (baseline)
#   2. backup  pg_dump -Fc, every stored file copied out through the storage API
#              (manage.py copy_storage) into a tar, the secrets in a separate directory, and
#              a key check file (per key: number, key_version, SHA-256 of the key — never the key)
#   3. wipe    drop the source database, delete its PDFs (or its bucket), forget the secrets
#   4. restore pg_restore into a fresh ${DRILL_PREFIX}_restored, untar the PDFs and store them
#              into a fresh storage (directory or bucket), read the secrets
#   5. verify  no migration pending; same rows, sequences and triggers as the source; the
#              append-only triggers still refuse; every PDF matches its SHA-256 (verify_storage);
#              every key still verifies (verify_keys); the audit chain verifies (verify_audit);
#              no stored PDF lacks its guarantee (reserve_lost_numbers)
#   6. negative controls: a wrong ESURE_AUTH_KEY_SECRET fails verify_keys; an altered byte and
#              a missing file fail verify_storage; an altered audit event fails verify_audit —
#              so each check above is shown able to fail
# Everything is removed at the end (trap). Keys and secrets are never printed.
#
# Environment:
#   PY                  the venv's python (default .venv/bin/python)
#   DRILL_GUARANTEES    guarantees to seed (default 20, at least 3)
#   DRILL_PREFIX        name prefix of the drill's databases; must start with esure_drill
#                       (default esure_drill): only databases named so are ever dropped
#   DRILL_SOURCE_URL    instead of seeding, back up this existing esure database (postgres://…);
#                       it is only read, never wiped. Then DRILL_SOURCE_MEDIA (its MEDIA_ROOT),
#                       SECRET_KEY and ESURE_AUTH_KEY_SECRET (its secrets) are required. It must
#                       be quiet during the drill (a standby or a copy): rows written meanwhile
#                       make the source and the restore differ, and the drill fails.
#   DRILL_S3_ENDPOINT_URL  run the drill on object storage: the source, restored and damaged
#                       storages are buckets esure-drill-*-{src,restored,damaged} created and
#                       deleted on that S3 API (credentials: the standard AWS_* variables)
#   PGHOST PGPORT PGUSER PGPASSWORD   server of the drill databases (default 127.0.0.1 5432 postgres)
set -eu
umask 077
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
DRILL_GUARANTEES=${DRILL_GUARANTEES:-20}
DRILL_PREFIX=${DRILL_PREFIX:-esure_drill}
DRILL_SOURCE_URL=${DRILL_SOURCE_URL:-}
DRILL_S3_ENDPOINT_URL=${DRILL_S3_ENDPOINT_URL:-}
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"

case "$DRILL_PREFIX" in
    esure_drill*) ;;
    *) echo "DRILL_PREFIX must start with esure_drill (got $DRILL_PREFIX)" >&2; exit 2 ;;
esac
for tool in pg_dump pg_restore psql createdb dropdb tar; do
    command -v "$tool" >/dev/null || { echo "restore drill: $tool is missing" >&2; exit 2; }
done

SRC_DB=${DRILL_PREFIX}_src
RESTORED_DB=${DRILL_PREFIX}_restored
DAMAGED_DB=${DRILL_PREFIX}_damaged
server_url() { echo "postgres://$PGUSER${PGPASSWORD:+:$PGPASSWORD}@$PGHOST:$PGPORT/$1"; }

if [ -n "$DRILL_SOURCE_URL" ]; then
    SEEDED=0
    SRC_CONN=$DRILL_SOURCE_URL
    SRC_MEDIA=${DRILL_SOURCE_MEDIA:?DRILL_SOURCE_MEDIA (the source MEDIA_ROOT) is required}
    SK=${SECRET_KEY:?SECRET_KEY of the source is required}
    AK=${ESURE_AUTH_KEY_SECRET:?ESURE_AUTH_KEY_SECRET of the source is required}
else
    SEEDED=1
    SRC_CONN=$SRC_DB
fi
# Nothing inherited decides which database, storage or secret a step uses: manage() says it.
unset SECRET_KEY ESURE_AUTH_KEY_SECRET DATABASE_URL MEDIA_ROOT ESURE_S3_BUCKET ESURE_S3_ENDPOINT_URL

W=$(mktemp -d "${TMPDIR:-/tmp}/esure-drill.XXXXXX")
B=$W/backup   # what an operator keeps: db/, media/ and secrets/ (the last one elsewhere)
LOG=$W/log
mkdir -p "$B/db" "$B/media" "$B/secrets" "$LOG"
# The eシール: the environment's (ESURE_SEAL_*) when set, else a throwaway demo seal under $W,
# so that the drill's commands pass the system check production refuses to run without.
if [ -z "${ESURE_SEAL_P12:-}" ]; then
    ESURE_SEAL_PASSPHRASE=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(24))')
    export ESURE_SEAL_PASSPHRASE ESURE_SEAL_P12="$W/seal/demo-seal.p12" ESURE_TSA_URL=""
    "$PY" -c 'import os, sys; from pathlib import Path
from certificates.management.commands.make_demo_seal import make_demo_seal
make_demo_seal(Path(sys.argv[1]), "esure restore drill", os.environ["ESURE_SEAL_PASSPHRASE"])' \
        "$W/seal" >/dev/null
fi
if [ -n "$DRILL_S3_ENDPOINT_URL" ]; then
    # Buckets instead of directories: S3 names allow no "_".
    BUCKETS=$(echo "$DRILL_PREFIX" | tr '_' '-')
    [ "$SEEDED" = 1 ] || { echo "DRILL_S3_ENDPOINT_URL needs a seeded drill" >&2; exit 2; }
    SRC_MEDIA=$BUCKETS-src
    RESTORED_MEDIA=$BUCKETS-restored
    DAMAGED_MEDIA=$BUCKETS-damaged
    STORE="bucket"
else
    [ "$SEEDED" = 1 ] && SRC_MEDIA=$W/source-media
    RESTORED_MEDIA=$W/restored-media
    DAMAGED_MEDIA=$W/damaged-media
    STORE="directory"
fi
bucket() { ESURE_S3_ENDPOINT_URL="$DRILL_S3_ENDPOINT_URL" "$PY" ops/s3-bucket.py "$@"; }
# new_storage NAME: an empty storage to write into (a bucket is created; a directory is made).
new_storage() {
    if [ "$STORE" = bucket ]; then bucket destroy "$1" && bucket create "$1"; else mkdir -p "$1"; fi
}

cleanup() {
    status=$?
    trap - EXIT
    if [ "$SEEDED" = 1 ]; then dropdb --if-exists --force "$SRC_DB" >/dev/null 2>&1 || :; fi
    for db in "$RESTORED_DB" "$DAMAGED_DB"; do dropdb --if-exists --force "$db" >/dev/null 2>&1 || :; done
    if [ "$STORE" = bucket ]; then
        for b in "$SRC_MEDIA" "$RESTORED_MEDIA" "$DAMAGED_MEDIA"; do bucket destroy "$b" >/dev/null 2>&1 || :; done
    fi
    rm -rf "$W"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

now_ms() { date +%s%3N; }
since() { ms=$(($(now_ms) - $1)); echo "$((ms / 1000)).$((ms % 1000 / 100)) s"; }
fail() { echo "restore drill: FAILED — $*" >&2; exit 1; }

# manage URL STORAGE ARGS…: manage.py against one database and storage (a MEDIA_ROOT, or a
# bucket with DRILL_S3_ENDPOINT_URL) with the secrets in $SK / $AK. Variables set for the
# command only: a secret never appears in a command line.
manage() {
    db=$1 media=$2
    shift 2
    if [ "$STORE" = bucket ]; then
        bucket_name=$media media=$W/no-media
    else
        bucket_name=''
    fi
    ESURE_ENV_FILE='' DEBUG="${DRILL_DEBUG:-false}" DATABASE_URL="$db" MEDIA_ROOT="$media" \
        ESURE_S3_BUCKET="$bucket_name" ESURE_S3_ENDPOINT_URL="$DRILL_S3_ENDPOINT_URL" \
        SECRET_KEY="$SK" ESURE_AUTH_KEY_SECRET="$AK" EMAIL_URL=consolemail:// \
        ESURE_TASKS_BACKEND=django_tasks_db.DatabaseBackend CONN_MAX_AGE=0 \
        "$PY" manage.py "$@"
}

# step NAME CMD…: run CMD with its output in $LOG/NAME.log; on failure show the log and stop.
step() {
    name=$1
    shift
    "$@" >"$LOG/$name.log" 2>&1 || {
        sed 's/^/    | /' "$LOG/$name.log" >&2
        fail "$name"
    }
}

# must_fail NAME CMD…: a negative control — CMD must exit non-zero.
must_fail() {
    name=$1
    shift
    if "$@" >"$LOG/$name.log" 2>&1; then
        sed 's/^/    | /' "$LOG/$name.log" >&2
        fail "$name: the check passed where it must fail"
    fi
}

# The state a restore must reproduce: rows per table, sequence positions, triggers.
fingerprint() {
    psql -X -A -t -q -F ' ' -v ON_ERROR_STOP=1 -d "$1" -c "
        SELECT 'rows', table_name, (xpath('/row/c/text()', query_to_xml(format(
            'SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text
        FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
        UNION ALL SELECT 'sequence', sequencename, coalesce(last_value, 0)::text
        FROM pg_sequences WHERE schemaname = 'public'
        UNION ALL SELECT 'trigger', tgrelid::regclass::text, tgname
        FROM pg_trigger WHERE NOT tgisinternal
        ORDER BY 1, 2, 3"
}

# refuses DB TABLE SQL: the append-only trigger of TABLE must refuse SQL (in a transaction
# rolled back). A row trigger fires only on a row, so TABLE must have some.
refuses() {
    rows=$(psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$1" -c "SELECT count(*) FROM $2")
    [ "$rows" -gt 0 ] || fail "$2 is empty: the drill needs a source with rows in it"
    if psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c "BEGIN; $3; ROLLBACK;" >"$LOG/refuses.log" 2>&1; then
        fail "append-only trigger missing: '$3' succeeded after the restore"
    fi
    grep -q "append-only" "$LOG/refuses.log" || {
        sed 's/^/    | /' "$LOG/refuses.log" >&2
        fail "'$3' failed, but not because of the append-only trigger"
    }
}

value() { sed -n "s/^$1 \([0-9][0-9,]*\).*/\1/p" "$2" | head -n 1; }

started=$(now_ms)
echo "restore drill: ${DRILL_PREFIX}_* databases, work directory $W"

# --- 1. seed (or take the given source) and check it before anything else ------------------
t=$(now_ms)
if [ "$SEEDED" = 1 ]; then
    SK=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(48))')
    AK=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(48))')
    step dropdb-stale dropdb --if-exists --force "$SRC_DB"
    step createdb createdb "$SRC_DB"
    step new-source-storage new_storage "$SRC_MEDIA"
    step migrate manage "$(server_url "$SRC_DB")" "$SRC_MEDIA" migrate --noinput
    step createcachetable manage "$(server_url "$SRC_DB")" "$SRC_MEDIA" createcachetable
    DRILL_DEBUG=true  # seed_drill reuses load_demo, which loads only with DEBUG on
    step seed manage "$(server_url "$SRC_DB")" "$SRC_MEDIA" seed_drill --guarantees "$DRILL_GUARANTEES"
    DRILL_DEBUG=false
    SRC_URL=$(server_url "$SRC_DB")
    first_phase="seed+baseline"
else
    SRC_URL=$DRILL_SOURCE_URL
    first_phase="baseline"
fi
step source-storage manage "$SRC_URL" "$SRC_MEDIA" verify_storage
step source-audit manage "$SRC_URL" "$SRC_MEDIA" verify_audit
fingerprint "$SRC_CONN" >"$W/source.fingerprint"
t_seed=$(since "$t")

# --- 2. backup: database, storage and secrets, each on its own ------------------------------
t=$(now_ms)
step key-check manage "$SRC_URL" "$SRC_MEDIA" export_key_check --out "$W/key-check.txt"
step pg_dump pg_dump -Fc -f "$B/db/esure.dump" -d "$SRC_CONN"
step copy-out manage "$SRC_URL" "$SRC_MEDIA" copy_storage --to "$W/copied-out"
step tar tar -C "$W/copied-out" -cf "$B/media/media.tar" .
rm -rf "$W/copied-out"
printf '%s' "$SK" >"$B/secrets/SECRET_KEY"
printf '%s' "$AK" >"$B/secrets/ESURE_AUTH_KEY_SECRET"
t_backup=$(since "$t")

# --- 3. wipe: nothing of the source is used from here on ------------------------------------
t=$(now_ms)
SK='' AK=''
if [ "$SEEDED" = 1 ]; then
    step dropdb dropdb --force "$SRC_DB"
    if [ "$STORE" = bucket ]; then
        step delete-source-bucket bucket destroy "$SRC_MEDIA"
        wiped="source database dropped, its bucket deleted, secrets forgotten"
    else
        rm -rf "$SRC_MEDIA"
        wiped="source database dropped, its PDFs deleted, secrets forgotten"
    fi
else
    wiped="source kept (not a drill database), secrets forgotten"
fi
t_wipe=$(since "$t")

# --- 4. restore into a fresh database and storage -------------------------------------------
t=$(now_ms)
step dropdb-stale-restored dropdb --if-exists --force "$RESTORED_DB"
step createdb-restored createdb "$RESTORED_DB"
step pg_restore pg_restore --no-owner --no-privileges --exit-on-error -d "$RESTORED_DB" \
    "$B/db/esure.dump"
mkdir -p "$W/untarred"
step untar tar -C "$W/untarred" -xf "$B/media/media.tar"
SK=$(cat "$B/secrets/SECRET_KEY")
AK=$(cat "$B/secrets/ESURE_AUTH_KEY_SECRET")
RESTORED_URL=$(server_url "$RESTORED_DB")
step new-restored-storage new_storage "$RESTORED_MEDIA"
step copy-in manage "$RESTORED_URL" "$RESTORED_MEDIA" copy_storage --from "$W/untarred"
t_restore=$(since "$t")

# --- 5. verify the restored registry ----------------------------------------------------------
t=$(now_ms)
step migrate-check manage "$RESTORED_URL" "$RESTORED_MEDIA" migrate --check --noinput
fingerprint "$RESTORED_DB" >"$W/restored.fingerprint"
if ! diff "$W/source.fingerprint" "$W/restored.fingerprint" >"$LOG/fingerprint.diff"; then
    sed 's/^/    | /' "$LOG/fingerprint.diff" >&2
    fail "the restored database differs from the source (rows, sequences or triggers)"
fi
refuses "$RESTORED_DB" certificates_certificate "UPDATE certificates_certificate SET change_summary = 'x'"
refuses "$RESTORED_DB" certificates_document "DELETE FROM certificates_document"
refuses "$RESTORED_DB" audit_auditevent "UPDATE audit_auditevent SET action = action"
step storage manage "$RESTORED_URL" "$RESTORED_MEDIA" verify_storage
step keys manage "$RESTORED_URL" "$RESTORED_MEDIA" verify_keys --from "$W/key-check.txt"
step audit manage "$RESTORED_URL" "$RESTORED_MEDIA" verify_audit
# Storage and database from the same moment: no stored PDF may lack its guarantee (after a
# point-in-time recovery this is where lost numbers show up: docs/operations.md).
step lost manage "$RESTORED_URL" "$RESTORED_MEDIA" reserve_lost_numbers

documents=$(value "documents OK:" "$LOG/storage.log")
[ "$documents" = "$(value "documents OK:" "$LOG/source-storage.log")" ] ||
    fail "verify_storage checked $documents documents, the source had $(value "documents OK:" "$LOG/source-storage.log")"
exported=$(value "key check written:" "$LOG/key-check.log")
keys=$(value "keys OK:" "$LOG/keys.log")
if [ "$keys" != "$exported" ] || [ "${keys:-0}" -eq 0 ]; then
    fail "verify_keys checked ${keys:-0} keys of $exported exported"
fi
events=$(value "audit chain OK:" "$LOG/audit.log")
[ "$events" = "$(value "audit chain OK:" "$LOG/source-audit.log")" ] ||
    fail "the restored audit chain has ${events:-?} events, the source had $(value "audit chain OK:" "$LOG/source-audit.log")"
# The same count could hide a rewritten chain: the last hash must be the source's too.
[ "$(grep '^audit chain OK' "$LOG/audit.log")" = "$(grep '^audit chain OK' "$LOG/source-audit.log")" ] ||
    fail "the restored audit chain ends in another hash than the source's"
t_verify=$(since "$t")

# --- 6. negative controls: each check can fail --------------------------------------------------
t=$(now_ms)
AK=wrong-$AK
must_fail wrong-secret manage "$RESTORED_URL" "$RESTORED_MEDIA" verify_keys --from "$W/key-check.txt"
AK=$(cat "$B/secrets/ESURE_AUTH_KEY_SECRET")
grep -q "keys FAILED: $keys of $keys" "$LOG/wrong-secret.log" ||
    fail "a wrong ESURE_AUTH_KEY_SECRET did not fail every key"
# A damaged copy of the backup's files stored into a storage of its own.
cp -R "$W/untarred" "$W/damaged-files"
pdfs=$(find "$W/damaged-files" -type f -name '*.pdf' | sort)
altered=$(echo "$pdfs" | sed -n 1p)
removed=$(echo "$pdfs" | sed -n 2p)
[ -n "$removed" ] || fail "fewer than two PDFs to damage"
"$PY" -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 1; open(p, "wb").write(b)' "$altered"
rm "$removed"
step new-damaged-storage new_storage "$DAMAGED_MEDIA"
step copy-in-damaged manage "$RESTORED_URL" "$DAMAGED_MEDIA" copy_storage --from "$W/damaged-files"
must_fail damaged-storage manage "$RESTORED_URL" "$DAMAGED_MEDIA" verify_storage
for expected in "documents FAILED: 2 of $documents" "SHA-256 differs" ": missing"; do
    grep -q "$expected" "$LOG/damaged-storage.log" ||
        fail "verify_storage did not report the altered and the missing PDF ($expected)"
done
# A copy of the restored database with one audit event altered behind the trigger's back
# (session_replication_role = replica skips triggers; superuser only, as a real attacker with
# database access would be): verify_audit must find the break.
step dropdb-stale-damaged dropdb --if-exists --force "$DAMAGED_DB"
step createdb-damaged createdb -T "$RESTORED_DB" "$DAMAGED_DB"
step alter-audit psql -X -q -v ON_ERROR_STOP=1 -d "$DAMAGED_DB" -c "
    SET session_replication_role = replica;
    UPDATE audit_auditevent SET actor = actor || ' (altered)'
    WHERE seq = (SELECT min(seq) FROM audit_auditevent)"
must_fail damaged-audit manage "$(server_url "$DAMAGED_DB")" "$RESTORED_MEDIA" verify_audit
grep -q "audit chain BROKEN at seq" "$LOG/damaged-audit.log" ||
    fail "verify_audit did not report the altered event"
t_negative=$(since "$t")

guarantees=$(awk '$1 == "rows" && $2 == "certificates_guarantee" { print $3 }' "$W/source.fingerprint")
versions=$(awk '$1 == "rows" && $2 == "certificates_certificate" { print $3 }' "$W/source.fingerprint")
tables=$(grep -c '^rows ' "$W/source.fingerprint")
kib() { echo "$(($(wc -c <"$1") / 1024)) KiB"; }
echo "restore drill: OK"
echo "  source:   $guarantees guarantees, $versions certificate versions, $tables tables"
echo "  backup:   database $(kib "$B/db/esure.dump") (pg_dump -Fc), PDFs $(kib "$B/media/media.tar") (tar of the $STORE's files), 2 secrets apart"
echo "  wipe:     $wiped"
echo "  restored: no migration pending; rows, sequences and triggers equal to the source;"
echo "            append-only triggers refuse UPDATE and DELETE"
echo "  $(grep '^documents OK' "$LOG/storage.log")"
echo "  $(grep '^keys OK' "$LOG/keys.log") (of $exported keys recorded before the backup)"
echo "  $(grep '^audit chain OK' "$LOG/audit.log" | head -n 1)"
echo "  $(grep '^lost numbers' "$LOG/lost.log")"
echo "  negative: wrong ESURE_AUTH_KEY_SECRET → keys FAILED: $keys of $keys (as it must)"
echo "  negative: 1 altered byte + 1 missing PDF → documents FAILED: 2 of $documents (as it must)"
echo "  negative: 1 altered audit event → $(grep -o 'audit chain BROKEN at seq [0-9]*' "$LOG/damaged-audit.log") (as it must)"
echo "  timings:  $first_phase $t_seed, backup $t_backup, wipe $t_wipe, restore $t_restore," \
    "verify $t_verify, negative $t_negative; total $(since "$started")"
