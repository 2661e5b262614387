# esure web image (Debian bookworm, Python 3.13). Not built on the development machines
# (no Docker engine there); docs/deployment.md says what was checked instead.
FROM python:3.13-slim-bookworm

# WeasyPrint needs Pango; libharfbuzz-subset0 keeps it on the fast font-subsetting path
# (~6x faster); IPAex fonts are the certificates' fonts (DESIGN.md §7).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-ipaexfont \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    STATIC_ROOT=/app/var/static MEDIA_ROOT=/app/var/media

WORKDIR /app
COPY pyproject.toml ./
RUN pip install --upgrade pip && pip install .
COPY . .
RUN SECRET_KEY=build-only ESURE_AUTH_KEY_SECRET=build-only ESURE_ENV_FILE= \
    python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --home /app esure \
    && mkdir -p /app/var/media && chown -R esure /app/var
USER esure

EXPOSE 8000
ENV WEB_CONCURRENCY=2
CMD ["sh", "-c", "exec gunicorn esure.wsgi:application --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY} --no-control-socket --access-logfile -"]
