# esure image for the web and worker processes (Debian bookworm, Python 3.13).
# Not built on the development machines (no Docker engine there): tests/test_deploy_files.py
# checks it statically and docs/deployment.md says so.
FROM python:3.13-slim-bookworm

# WeasyPrint needs Pango; libharfbuzz-subset0 keeps it on the fast font-subsetting path
# (~6x faster, DESIGN.md §10); IPAex fonts are the certificates' fonts (DESIGN.md §7).
# The same runtime packages as ops/ensure-debs.sh installs for `make run`.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-ipaexfont \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    STATIC_ROOT=/app/var/static MEDIA_ROOT=/app/var/media WEB_CONCURRENCY=2

WORKDIR /app
# Dependencies first: this layer is rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN pip install --upgrade pip && pip install .
COPY . .
# Static files collected into the image (served by WhiteNoise). The code stays owned by root:
# the app user can write only under var/media (a volume in docker-compose.yml).
RUN SECRET_KEY=build-only ESURE_AUTH_KEY_SECRET=build-only ESURE_ENV_FILE= \
    python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --home /app esure \
    && mkdir -p /app/var/media && chown esure /app/var/media
USER esure

EXPOSE 8000
# Workers from WEB_CONCURRENCY, JSON access log: ops/gunicorn.conf.py.
CMD ["gunicorn", "--config", "ops/gunicorn.conf.py", "--no-control-socket", "esure.wsgi:application"]
