"""The one settings module. Production differences are environment variables (.env.example)."""

import datetime
import ipaddress
import logging
import os
import warnings
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from esure.storage import default_storage_setting

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# Real environment first, then the file (default var/.env, written by `make run` for the demo).
# ESURE_ENV_FILE= (empty) reads no file: the test suite is hermetic.
ENV_FILE = os.environ.get("ESURE_ENV_FILE", str(VAR_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).is_file():
    env.read_env(ENV_FILE)


def _required(name):
    """A secret with no default: refuse to start without it, with a message that says why."""
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set. Set it in the environment (see .env.example), "
            "or run `make run` once to write a local demo var/.env."
        )
    return value


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = _required("SECRET_KEY")
# The HMAC secret from which every 認証キー is derived (DESIGN.md §6). Back it up apart from
# the database: without it no key verifies; with it and a dump, every key can be derived.
ESURE_AUTH_KEY_SECRET = _required("ESURE_AUTH_KEY_SECRET")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# True in the task worker's process only: manage.py sets it for `manage.py worker`, before the
# settings are read (decision 0050). Its admin then registers no app's ModelAdmins: a task
# never serves an admin page, and importing every app's admin.py costs a worker ~2.3 MB.
ESURE_TASK_WORKER = env.bool("ESURE_TASK_WORKER", default=False)

INSTALLED_APPS = [
    # Django admin with esure's site (sections by the work, the work queue): esure/apps.py.
    "esure.apps.EsureWorkerAdminConfig" if ESURE_TASK_WORKER else "esure.apps.EsureAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    # allauth's MFA and django-tasks-db under Japanese names in the admin (esure/apps.py).
    "esure.apps.MultiFactorConfig",
    "esure.apps.TasksConfig",
    # The project itself, for what belongs to no app: the task queue's recovery command
    # (esure/queue.py, requeue_stuck_tasks) and the shared admin bases. No models.
    "esure",
    # The staff console on the admin (work queue, 業務状況, statements, reports): reads the apps
    # below, none of which imports it; its ready() runs after the admin's and the task queue's.
    "console",
    "accounts",
    "certificates",
    "applications",
    "certs",
    "dsure",
    "audit",
    "advances",
    "api",
    # 契約保証予約 (decision 0034): reads accounts and the workflow's rules and services.
    "reservations",
    "claims",
]

MIDDLEWARE = [
    # Outermost: counts every response as the client gets it (esure/metrics.py).
    "esure.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # /api/v1/ only: logs each call to its token; what Django and the middleware below answer
    # by themselves (404, 405, the NUL 400) becomes problem+json. Outside them, to see those.
    "api.middleware.ApiMiddleware",
    # A NUL anywhere in the request is a 400 before any view or query (decision 0030).
    "esure.middleware.RefuseNulMiddleware",
    # Before WhiteNoise, so static files (the SVG favicon) carry the policy too.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.SessionLimitsMiddleware",
    "accounts.middleware.StaffMfaMiddleware",
]

ROOT_URLCONF = "esure.urls"
WSGI_APPLICATION = "esure.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # The CSP nonce for the admin's one inline <style> (see SECURE_CSP).
                "django.template.context_processors.csp",
                "accounts.context_processors.membership",
                "esure.context_processors.site",
                # {% csrf_token %} masked in one read of the random source (decision 0054).
                "esure.context_processors.csrf",
            ],
            # The wareki and yen filters (esure/templatetags.py) in every template, no {% load %}.
            "builtins": ["esure.templatetags"],
        },
    },
]

# PostgreSQL in production and tests; SQLite under var/ as the embedded default for `make run`.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'esure.sqlite3'}"),
}
# Persistent connections: a probe measured ~9x the throughput of per-request connections.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The role web and worker connect as, made and granted by `manage.py grant_app_role` (run as
# the owner after every migrate; decision 0031). Only that command reads these two.
ESURE_APP_DB_ROLE = env.str("ESURE_APP_DB_ROLE", default="esure_app")
ESURE_APP_DB_PASSWORD = env.str("ESURE_APP_DB_PASSWORD", default="")

# One cache shared by every web and worker process, so allauth's rate limits hold across them.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "esure_cache",
    }
}

AUTH_USER_MODEL = "accounts.User"
# Django's and allauth's, loading the user with the membership and company joined (0038).
AUTHENTICATION_BACKENDS = [
    "accounts.backends.ModelBackend",
    "accounts.backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    # 15 characters unless the account has a second factor (NIST SP 800-63B-4).
    {"NAME": "accounts.validators.SingleFactorPasswordLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# django-allauth: e-mail is the login; verification is mandatory before the first login.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[esure] "
ACCOUNT_PREVENT_ENUMERATION = True
# allauth reads the client's address (its rate limits: login failures per address) through
# esure.clientip, like everything else (accounts.adapter).
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "esure"
# Every staff user must have TOTP before reaching any page (accounts.middleware). The local
# demo .env written by `make run` turns this off, and says so.
ESURE_STAFF_MFA_REQUIRED = env.bool("ESURE_STAFF_MFA_REQUIRED", default=True)
# The same for bank users (預託金融機関の担当者, who confirm withdrawals): on unless set, and
# by default as the staff setting, so the demo's .env that turns staff MFA off covers both.
ESURE_BANK_MFA_REQUIRED = env.bool("ESURE_BANK_MFA_REQUIRED", default=ESURE_STAFF_MFA_REQUIRED)

# Sessions of logged-in users (clerks, office users, bank users, staff) end this many hours
# after the login and this many minutes after the last request (accounts.middleware,
# docs/decisions/0009). D-Sure's anonymous viewer grants have their own limits.
ESURE_SESSION_MAX_HOURS = env.int("ESURE_SESSION_MAX_HOURS", default=12)
ESURE_SESSION_IDLE_MINUTES = env.int("ESURE_SESSION_IDLE_MINUTES", default=60)
if ESURE_SESSION_MAX_HOURS < 1 or ESURE_SESSION_IDLE_MINUTES < 1:
    raise ImproperlyConfigured("ESURE_SESSION_MAX_HOURS and ESURE_SESSION_IDLE_MINUTES must be 1+")
# The cookie and the session row expire with the absolute limit too.
SESSION_COOKIE_AGE = ESURE_SESSION_MAX_HOURS * 60 * 60
# Showing a 認証キー and re-issuing one ask for the password again unless it was typed again
# within these seconds (allauth's reauthentication_required; its default, said here).
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300

# How long a D-Sure number stays locked after 100 wrong keys before the lock ends by itself
# (dsure.throttle, docs/decisions/0008): staff are alerted at once and may clear it earlier.
ESURE_DSURE_LOCK_HOURS = env.int("ESURE_DSURE_LOCK_HOURS", default=24)
if ESURE_DSURE_LOCK_HOURS < 1:
    raise ImproperlyConfigured("ESURE_DSURE_LOCK_HOURS must be 1 or more")

# Offices are told once when a guarantee in their list ends within this many days
# (`manage.py send_expiry_alerts`, daily; decision 0018).
ESURE_EXPIRY_ALERT_DAYS = env.int("ESURE_EXPIRY_ALERT_DAYS", default=30)
if ESURE_EXPIRY_ALERT_DAYS < 1:
    raise ImproperlyConfigured("ESURE_EXPIRY_ALERT_DAYS must be 1 or more")

# 前払金の返還 after a 減額 (decision 0026): the advance received may stay up to this many
# tenths of the new 請負代金額 (5, or 6 where a 中間前払金 was paid: 公共工事標準請負契約約款
# 第34条); the excess is returned within ESURE_REFUND_DUE_DAYS days of the 減額 (30, ibid.).
ESURE_REFUND_RATE_TENTHS = env.int("ESURE_REFUND_RATE_TENTHS", default=5)
ESURE_REFUND_RATE_TENTHS_INTERMEDIATE = env.int("ESURE_REFUND_RATE_TENTHS_INTERMEDIATE", default=6)
ESURE_REFUND_DUE_DAYS = env.int("ESURE_REFUND_DUE_DAYS", default=30)
if not 1 <= ESURE_REFUND_RATE_TENTHS <= ESURE_REFUND_RATE_TENTHS_INTERMEDIATE <= 10:
    raise ImproperlyConfigured(
        "ESURE_REFUND_RATE_TENTHS and ESURE_REFUND_RATE_TENTHS_INTERMEDIATE must be tenths, "
        "1 ≤ the first ≤ the second ≤ 10"
    )
if ESURE_REFUND_DUE_DAYS < 1:
    raise ImproperlyConfigured("ESURE_REFUND_DUE_DAYS must be 1 or more")

# The admin path comes from the environment, so it is not the well-known /admin/.
ESURE_ADMIN_PATH = env.str("ESURE_ADMIN_PATH", default="admin/").strip("/") + "/"

# Demo data (manage.py load_demo) only ever loads with DEBUG on.
ESURE_DEMO_ALLOWED = DEBUG

LANGUAGE_CODE = "ja"
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
# Stored documents (the PDFs: legal originals): the local disk under MEDIA_ROOT, or with
# ESURE_S3_BUCKET an S3-compatible bucket (it must exist) through django-storages; for a store
# that is not AWS also ESURE_S3_ENDPOINT_URL. Credentials and region come from the standard
# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION (read by boto3, not here).
# The one switch: the apps only use the storage API (docs/decisions/0017).
ESURE_S3_BUCKET = env.str("ESURE_S3_BUCKET", default="")
ESURE_S3_ENDPOINT_URL = env.str("ESURE_S3_ENDPOINT_URL", default="")
STORAGES = {
    "default": default_storage_setting(bucket=ESURE_S3_BUCKET, endpoint_url=ESURE_S3_ENDPOINT_URL),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "esure.staticfiles.StaticStorage"  # whitenoise's, each URL made once
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Mail (Django 6.1 MAILERS) from one URL: consolemail:// prints to the terminal (demo),
# smtp+tls://user:password@host:587 in production.
_mail = env.email_url("EMAIL_URL", default="consolemail://")
_mail_backend = _mail["EMAIL_BACKEND"]
if _mail_backend.endswith("console.EmailBackend"):
    _mail_backend = "esure.mail.ReadableConsoleBackend"
_mail_options = {
    "host": _mail.get("EMAIL_HOST"),
    "port": _mail.get("EMAIL_PORT"),
    "username": _mail.get("EMAIL_HOST_USER") or None,
    "password": _mail.get("EMAIL_HOST_PASSWORD") or None,
    "use_tls": _mail.get("EMAIL_USE_TLS") or None,
    "use_ssl": _mail.get("EMAIL_USE_SSL") or None,
    "timeout": 30,
}
MAILERS = {
    "default": {
        "BACKEND": _mail_backend,
        "OPTIONS": {k: v for k, v in _mail_options.items() if v is not None}
        if _mail_backend.endswith("smtp.EmailBackend")
        else {},
    }
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="esure <noreply@esure.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Durable background work (mail) through Django's Tasks framework: the ORM backend's rows
# are written in the caller's transaction and run by `manage.py worker`. The test suite
# uses esure.tasks_backends.ImmediateOnCommitBackend (runs each task after commit).
TASKS = {
    "default": {
        "BACKEND": env.str("ESURE_TASKS_BACKEND", default="django_tasks_db.DatabaseBackend")
    }
}

# When the worker produces a conclusion's お客様控え and 保証料計算書 (decision 0052): empty, at
# once after its commit; a local time HH:MM (e.g. 20:00), from that time of the conclusion's
# day, so that daytime conclusions spend the cores on their 保証証書 alone (a contractor who
# asks for a copy before then gets it made on the spot). A conclusion after it: at once.
ESURE_DEFERRED_DOCUMENTS_FROM = env.str("ESURE_DEFERRED_DOCUMENTS_FROM", default="").strip()
if ESURE_DEFERRED_DOCUMENTS_FROM:
    try:
        ESURE_DEFERRED_DOCUMENTS_FROM = datetime.time.fromisoformat(ESURE_DEFERRED_DOCUMENTS_FROM)
    except ValueError:
        raise ImproperlyConfigured(
            "ESURE_DEFERRED_DOCUMENTS_FROM must be empty or a local time HH:MM"
        ) from None
else:
    ESURE_DEFERRED_DOCUMENTS_FROM = None

# The surety company that issues the guarantees (保証人), shown on every document.
ESURE_SURETY_NAME = env.str("ESURE_SURETY_NAME", default="西日本建設業保証株式会社")

# The surety company's eシール (decision 0012, docs/operations.md "The seal"): every stored
# PDF is signed with it (PAdES B-LT). ESURE_SEAL_P12 is the PKCS#12 file of the seal
# certificate, its key and chain (readable by the esure user only), ESURE_SEAL_PASSPHRASE its
# passphrase (from the environment, never in a file the image carries). Without a seal the
# PDFs are unsigned, which only DEBUG allows (system check certificates.E001).
ESURE_SEAL_P12 = env.str("ESURE_SEAL_P12", default="")
ESURE_SEAL_PASSPHRASE = env.str("ESURE_SEAL_PASSPHRASE", default="")
# The RFC 3161 time-stamping service (e.g. an accredited 認定タイムスタンプ provider). Empty:
# the signature carries the signing time only, and the check page says so.
ESURE_TSA_URL = env.str("ESURE_TSA_URL", default="")
# A PEM file of further trust roots: the TSA's root when it is not the seal's, and the roots
# of earlier seals after a rotation. The seal's own root comes from its PKCS#12 file.
ESURE_SEAL_TRUST_ROOTS = env.str("ESURE_SEAL_TRUST_ROOTS", default="")

# 前払金の使途管理 (advances; decision 0014 gives the source of each number).
# Rule 8: cash withdrawals (現金払出) up to this many yen per withdrawal, each approved by
# staff; 0 (the default) allows none.
ESURE_ADVANCE_CASH_LIMIT = env.int("ESURE_ADVANCE_CASH_LIMIT", default=0)
# Rule 9: flag an account that still holds more than this percentage of the 前払金 this many
# days after it was paid in (a surety survey found ~20% unspent after 3 months).
ESURE_ADVANCE_MONITOR_DAYS = env.int("ESURE_ADVANCE_MONITOR_DAYS", default=90)
ESURE_ADVANCE_MONITOR_PERCENT = env.int("ESURE_ADVANCE_MONITOR_PERCENT", default=20)
# Evidence files of withdrawals (PDF, JPEG, PNG): at most this many bytes each.
ESURE_EVIDENCE_MAX_BYTES = env.int("ESURE_EVIDENCE_MAX_BYTES", default=10 * 1024 * 1024)

# 保証金の請求 (claims; decision 0027). The surety pays a claim within this many days of
# receiving it (公共工事の前払金保証事業に関する法律 第13条: 30 days).
ESURE_CLAIM_DUE_DAYS = env.int("ESURE_CLAIM_DUE_DAYS", default=30)
# Documents of a claim (解除通知, 出来形検査調書…: PDF, JPEG): at most this many bytes each.
ESURE_CLAIM_ATTACHMENT_MAX_BYTES = env.int(
    "ESURE_CLAIM_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024
)

# Webhooks (docs/decisions/0025). Targets must be https and resolve to public addresses;
# true also admits loopback (and plain http to it) — for tests and the local demo only.
ESURE_WEBHOOK_ALLOW_LOOPBACK = env.bool("ESURE_WEBHOOK_ALLOW_LOOPBACK", default=False)
# guarantee.expiring is sent when the 保証期限 is this many days away or fewer.
ESURE_WEBHOOK_EXPIRING_DAYS = env.int("ESURE_WEBHOOK_EXPIRING_DAYS", default=30)
# An Idempotency-Key of the API's 受領/返戻 is kept (and its first answer repeated) this long.
ESURE_API_IDEMPOTENCY_HOURS = env.int("ESURE_API_IDEMPOTENCY_HOURS", default=24)

# 契約保証予約 (decision 0034): usable through the 入札日 + this many days unless staff set
# another date on approval. A figure of the surety (no law or published table gives one):
# the award, the contract within 7 days of it, and the assembly's vote at its next
# quarterly session for contracts that need one (地方自治法第96条第1項第5号).
ESURE_RESERVATION_VALID_DAYS = env.int("ESURE_RESERVATION_VALID_DAYS", default=90)
if ESURE_RESERVATION_VALID_DAYS < 0:
    raise ImproperlyConfigured("ESURE_RESERVATION_VALID_DAYS must be 0 or more")

# json: one JSON object per line (esure/logging.py), for the log pipeline; plain: readable
# lines for `make run`. The web and the worker (`manage.py worker`) both log through this.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}")

# pyHanko and certomancer import cryptography's DSA types, which cryptography deprecates with a
# warning on every start; esure signs with RSA and ECDSA only (certificates.seal).
warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"(pyhanko|certomancer)")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A filter, not only a level: it holds even when something lowers the logger's level.
    "filters": {
        "info_and_above": {
            "()": "django.utils.log.CallbackFilter",
            "callback": lambda record: record.levelno >= logging.INFO,
        }
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "esure.logging.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint and fontTools narrate every render step at INFO.
    "loggers": {
        # At DEBUG the template engine logs whole contexts of unresolved variables: a page
        # that shows the 認証キー would put it in the log. Never below INFO.
        "django.template": {"level": "INFO", "filters": ["info_and_above"]},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # pyHanko narrates every CRL fetch and signature at INFO (certificates.seal).
        "pyhanko": {"level": "WARNING"},
        "pyhanko_certvalidator": {"level": "WARNING"},
    },
}

# The public address of this site, for links in mails and documents (no trailing slash).
ESURE_SITE_URL = env.str("ESURE_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- HTTPS and security headers (docs/deployment.md) --------------------------------------
# One switch for everything that only works over HTTPS: HSTS, Secure cookies with __Host-
# names, the redirect to https. Off by default so that the local demo (make run) and the test
# suite keep working over plain http://127.0.0.1; production sets ESURE_HTTPS=true, and
# `manage.py check --deploy` warns when it does not (tests/test_check_deploy.py).
ESURE_HTTPS = env.bool("ESURE_HTTPS", default=False)
# False only when the load balancer already redirects http to https itself.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=ESURE_HTTPS)
# Load balancers probe over plain http, and a redirect is not an answer to a health check.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# Behind a TLS-terminating load balancer: "HTTP_X_FORWARDED_PROTO,https". Only set it when
# every request passes that proxy and the proxy overwrites the header: a client that can
# reach gunicorn directly could otherwise claim https.
# How many proxies that append to X-Forwarded-For stand in front of gunicorn (nginx on the
# host: 1). The client is that many entries from the right; the rest of the header is the
# client's own and never read (esure/clientip.py). 0: nothing in front, REMOTE_ADDR.
ESURE_TRUSTED_PROXY_COUNT = env.int("ESURE_TRUSTED_PROXY_COUNT", default=0)
if ESURE_TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("ESURE_TRUSTED_PROXY_COUNT must be 0 or more")
# The same count for allauth's own reading of the address, should anything of it bypass
# the adapter.
ALLAUTH_TRUSTED_PROXY_COUNT = ESURE_TRUSTED_PROXY_COUNT
# Who may read /readyz and /metrics (esure.clientip.internal_only, decision 0013): CIDRs,
# matched against the client address as read above. Default: loopback and the private
# ranges (RFC 1918, IPv6 unique-local), where load balancers and Prometheus usually sit.
# Empty: nobody. /healthz stays public.
_readyz_allow = env.list(
    "ESURE_READYZ_ALLOW",
    default=[
        "127.0.0.0/8",
        "::1/128",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "fc00::/7",
    ],
)
try:
    # strict: a host part after the prefix (10.0.0.1/8) is refused, it is usually a typo.
    ESURE_READYZ_ALLOW = [ipaddress.ip_network(c.strip()) for c in _readyz_allow if c.strip()]
except ValueError as error:
    raise ImproperlyConfigured(f"ESURE_READYZ_ALLOW: {error}") from error
_proxy_ssl_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
if _proxy_ssl_header and len(_proxy_ssl_header) != 2:
    raise ImproperlyConfigured(
        "SECURE_PROXY_SSL_HEADER takes a header and a value, e.g. HTTP_X_FORWARDED_PROTO,https"
    )
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) or None
# One year, subdomains included. The preload directive alone changes nothing: a domain joins
# the browsers' list only when its owner submits it (hard to undo) — the operator's choice.
SECURE_HSTS_SECONDS = 31_536_000 if ESURE_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = ESURE_HTTPS
SECURE_HSTS_PRELOAD = ESURE_HTTPS
# Database sessions without the pre-INSERT existence query (esure/sessions.py).
SESSION_ENGINE = "esure.sessions"
# __Host- names make the browser refuse the cookie unless it is Secure, has Path=/ and no
# Domain: a sibling subdomain cannot plant or overwrite a session or CSRF cookie.
SESSION_COOKIE_SECURE = ESURE_HTTPS
CSRF_COOKIE_SECURE = ESURE_HTTPS
SESSION_COOKIE_NAME = "__Host-sessionid" if ESURE_HTTPS else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if ESURE_HTTPS else "csrftoken"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Not no-referrer site-wide: browsers may then send "Origin: null" with our own form posts,
# which the CSRF check refuses (found in D-Sure). A view may still set a stricter one:
# SecurityMiddleware only fills in a header the view has not set.
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response, over http too (so the demo and the browser
# tests run under it). Scripts only from our own static files: the app has no inline script
# (json_script blocks are data, not script). The nonce serves the admin's one inline <style>
# (its change list without actions); img data: is allauth's TOTP QR code.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
