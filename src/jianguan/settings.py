"""The one settings module. Every deployment difference is an environment variable (docs/configuration.md)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    """The variable's value, or None when it is unset or empty (an empty value means "use the default")."""
    value = os.environ.get(name)
    return None if value is None or value.strip() == "" else value.strip()


def env_str(name: str, default: str) -> str:
    """The variable as given (unset or empty: the default)."""
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), got {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}")
    return number


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ImproperlyConfigured(f"{name} must be a finite number, got {value!r}")
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}")
    return number


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


BASE_DIR = Path(__file__).resolve().parent
# Runtime state (SQLite file, media, keys) lives in ./var of the working directory unless configured.
VAR_DIR = Path(env_str("JIANGUAN_VAR_DIR", str(Path.cwd() / "var"))).resolve()

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    key = env_str("SECRET_KEY", "")
    if key:
        return key
    if not DEBUG and not env_bool("JIANGUAN_DEMO", False):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (production).")
    # Demo / development: one random key per installation, kept so sessions survive restarts.
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
# Key material for ID numbers at rest (jianguan.registry.protect); empty: derived from SECRET_KEY.
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "csp",
    "huey.contrib.djhuey",
    "ninja",  # serves the API docs (Swagger UI) from local static files, no CDN
    "jianguan.core",
    "jianguan.accounts",
    "jianguan.registry",
    "jianguan.projects",
    "jianguan.review",
    "jianguan.ledger",
    "jianguan.sites",
    "jianguan.notify",
    "jianguan.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "jianguan.core.middleware.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "jianguan.core.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "jianguan.urls"
WSGI_APPLICATION = "jianguan.wsgi.application"
ASGI_APPLICATION = "jianguan.asgi.application"

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
                "jianguan.core.context_processors.platform",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'jianguan.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
# --- web tier (issue 9): a bounded connection pool per process on PostgreSQL; docs/deployment.md ----------------
# Django's psycopg pool: a request (or poll, or job) takes a connection and gives it back when it ends
# (CONN_MAX_AGE 0), so a process never holds more than DB_POOL_MAX_SIZE connections, whatever its server mode or
# thread count; past that a request waits up to DB_POOL_TIMEOUT seconds for one. DB_POOL_MAX_SIZE=0: no pool
# (a connection per thread, kept DB_CONN_MAX_AGE seconds). jianguan/gunicorn_conf.py sets it to its threads.
DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 4, minimum=0)
DB_POOL_TIMEOUT = env_float("DB_POOL_TIMEOUT", 10.0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DB_POOL_MAX_SIZE > 0:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # With a pool, Django's health check means: the pool checks a connection as it hands it out (one empty
    # round trip), so a restarted database costs no request an error.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": DB_POOL_TIMEOUT,
        "max_idle": 300,
    }
# Sessions read from the cache first (Redis in production), the database only on a miss.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# The one backend (accounts/backends.py): passwords behind the login throttle, and the signed-in user with
# department and jurisdiction in one query (every permission check reads them). Set below, once.
# Public pages and public API answers from the cache (jianguan.core.public_cache); 0 switches it off.
PUBLIC_CACHE_SECONDS = env_int("PUBLIC_CACHE_SECONDS", 300, minimum=0)
MIDDLEWARE.insert(
    MIDDLEWARE.index("whitenoise.middleware.WhiteNoiseMiddleware") + 1,
    "jianguan.core.public_cache.PublicCacheMiddleware",
)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the load balancer's liveness probe speaks plain HTTP
# --- end web tier ---------------------------------------------------------------------------------------------
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets readers go on while a writer writes; IMMEDIATE avoids lock upgrades failing mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
            " PRAGMA cache_size=-65536;"  # 64 MiB page cache: large indexes (readings, evidence log) stay hot
        ),
        "transaction_mode": "IMMEDIATE",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# One backend: Django's ModelBackend behind the login throttle, so every door that takes a password shares it.
AUTHENTICATION_BACKENDS = ["jianguan.accounts.backends.ThrottledModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REDIS_URL = env_str("REDIS_URL", "")


def _redis_database_for_test_worker(url: str, worker: str) -> str:
    """pytest-xdist workers share one REDIS_URL: give worker gwN the database N above the configured one, so
    one worker's cache.clear() (a FLUSHDB) cannot wipe another's login counters or task queue."""
    parsed = urlparse(url)
    base = int(parsed.path.strip("/") or 0)
    return parsed._replace(path=f"/{base + int(worker.removeprefix('gw'))}").geturl()


if REDIS_URL and env_str("PYTEST_XDIST_WORKER", "").startswith("gw"):
    REDIS_URL = _redis_database_for_test_worker(REDIS_URL, env_str("PYTEST_XDIST_WORKER", ""))
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"  # never served directly: documents go through permission-checked views

# Uploads: streamed to disk while hashed, sniffed and size-limited in jianguan.projects.documents.
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 50 * 1024 * 1024, minimum=1)
# The server refuses a larger request body before reading it (jianguan.core.bodylimit around the ASGI and WSGI
# apps): one file at the upload limit plus room for the form's other fields. A body declared larger gets 413.
REQUEST_BODY_MAX_BYTES = env_int("REQUEST_BODY_MAX_BYTES", UPLOAD_MAX_BYTES + 1024 * 1024, minimum=1024)
FILE_UPLOAD_HANDLERS = ["jianguan.projects.documents.HashingUploadHandler"]
# Bodies that are not file uploads (JSON, form fields) over this answer 413 (API) / 400 (pages).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024, minimum=1024)
# The ASGI handler keeps this much of a request body in memory before spooling it to disk (uploaded files
# themselves always go to disk: HashingUploadHandler).
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 1024 * 1024, minimum=0)

# Threads (each with one database connection) shared by all open live-alarm pages' polls (sites/live.py).
LIVE_ALARM_POLL_THREADS = env_int("LIVE_ALARM_POLL_THREADS", 4, minimum=1)
# Login throttling (jianguan.accounts.throttle): failures per username and per IP within the window.
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5, minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 900, minimum=1)

# Base map tiles for the filing form's map (an XYZ URL template in WGS-84 / Web Mercator, e.g. 天地图's);
# empty: the map shows the districts' boundaries only, which is enough to pick a point (no tile server is
# reachable offline). Its origin is added to the Content-Security-Policy's img-src.
MAP_TILE_URL = env_str("MAP_TILE_URL", "")
MAP_TILE_ATTRIBUTION = env_str("MAP_TILE_ATTRIBUTION", "")


def _tile_origins(template: str) -> list[str]:
    """The CSP source of a tile URL template: its origin, a host with a {s} sub-domain as *.rest."""
    if not template:
        return []
    parts = urlparse(template)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ImproperlyConfigured(f"MAP_TILE_URL must be an http(s) URL template, got {template!r}")
    host = parts.netloc
    if "{" in host:
        host = "*." + host.split(".", 1)[1]
    return [f"{parts.scheme}://{host}"]


# Production hardening: on unless DEBUG, each switchable for a TLS-terminating proxy set-up.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# API tokens (POST /api/auth/token) expire this many days after issue; a password change or deactivation
# revokes them at once.
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 90, minimum=1)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=60)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Content-Security-Policy on every response (django-csp): scripts, styles, fonts and fetches only from the site
# itself (its own static files, the vendored ECharts and Swagger UI), no inline script or event handler, no
# inline style in markup, no plug-ins, no framing, forms post only here. Images may be data: URIs (the admin's
# and Swagger UI's icons). Templates keep no inline <script>, on…= handlers or style= (a test checks them).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *_tile_origins(MAP_TILE_URL)],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

NINJA_PAGINATION_PER_PAGE = 20
NINJA_PAGINATION_MAX_LIMIT = 200

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint (the permit certificate) and fontTools log every rendering step at INFO.
    "loggers": {n: {"level": "WARNING"} for n in ("django.db.backends", "weasyprint", "fontTools")},
}

# Background jobs and schedules: huey. Embedded: a SQLite queue file and a consumer thread inside the demo
# process; production: Redis (REDIS_URL) and `jianguan run_huey` workers, as many as needed.
HUEY = {
    "name": "jianguan",
    "huey_class": "huey.RedisHuey" if REDIS_URL else "huey.SqliteHuey",
    "immediate": env_bool("HUEY_IMMEDIATE", False),
    "utc": True,
    "connection": {"url": REDIS_URL} if REDIS_URL else {"filename": str(VAR_DIR / "tasks.sqlite3")},
    "consumer": {"workers": env_int("HUEY_WORKERS", 2, minimum=1), "worker_type": "thread"},
}

# Evidence log (jianguan.ledger): the checkpoint origin line and the Ed25519 signer key file.
LEDGER_ORIGIN = env_str("LEDGER_ORIGIN", "jianguan.linyi/evidence")
LEDGER_SIGNING_KEY_FILE = env_str("LEDGER_SIGNING_KEY_FILE", str(VAR_DIR / "ledger-signing.key"))
# Production brings its own key (a missing file is an error); the demo and tests generate one.
LEDGER_GENERATE_KEY = env_bool("LEDGER_GENERATE_KEY", DEBUG or env_bool("JIANGUAN_DEMO", False))
LEDGER_CHECKPOINT_MINUTES = env_int("LEDGER_CHECKPOINT_MINUTES", 10, minimum=1)

# Smart-site readings at volume (jianguan.sites.readings.aggregates): hourly/daily roll-ups, raw-data retention.
# The roll-up job recomputes the last N hours every 10 minutes (late, spooled data lands in them).
READINGS_ROLLUP_LOOKBACK_HOURS = env_int("READINGS_ROLLUP_LOOKBACK_HOURS", 6, minimum=1)
# Raw readings older than this many days are deleted once their day is aggregated (0 = keep forever);
# hourly aggregates are kept READINGS_HOURLY_RETENTION_DAYS (0 = forever), daily aggregates forever.
READINGS_RETENTION_DAYS = env_int("READINGS_RETENTION_DAYS", 180, minimum=0)
READINGS_HOURLY_RETENTION_DAYS = env_int("READINGS_HOURLY_RETENTION_DAYS", 730, minimum=0)

# 设备离线 (jianguan.sites.alarms.offline): a monitor of a site under construction whose last data is older than
# DEVICE_OFFLINE_INTERVALS × its real-time interval, and at least DEVICE_OFFLINE_MIN_MINUTES, raises an alarm.
DEVICE_OFFLINE_INTERVALS = int(os.environ.get("DEVICE_OFFLINE_INTERVALS", "3"))
DEVICE_OFFLINE_MIN_MINUTES = int(os.environ.get("DEVICE_OFFLINE_MIN_MINUTES", "15"))

# Guessed device credentials (docs/hj212.md, "Password guessing"). HJ 212 gateway: failed authentications per MN
# and per peer address within the window before the MN / the address is refused, failures per connection before
# it is closed, and the delay of every failure's answer (an unknown MN and a wrong password answered alike).
HJ212_AUTH_MN_FAILURES = int(os.environ.get("HJ212_AUTH_MN_FAILURES", "10"))
HJ212_AUTH_IP_FAILURES = int(os.environ.get("HJ212_AUTH_IP_FAILURES", "30"))
HJ212_AUTH_WINDOW_SECONDS = int(os.environ.get("HJ212_AUTH_WINDOW_SECONDS", "600"))
HJ212_AUTH_CONNECTION_FAILURES = int(os.environ.get("HJ212_AUTH_CONNECTION_FAILURES", "3"))
HJ212_AUTH_FAILURE_DELAY_SECONDS = float(os.environ.get("HJ212_AUTH_FAILURE_DELAY_SECONDS", "1.0"))
# HTTP ingest: wrong X-Device-Token values per client address within the window before it is refused (429).
DEVICE_TOKEN_MAX_FAILURES = int(os.environ.get("DEVICE_TOKEN_MAX_FAILURES", "20"))
DEVICE_TOKEN_FAILURE_WINDOW_SECONDS = int(os.environ.get("DEVICE_TOKEN_FAILURE_WINDOW_SECONDS", "600"))

# Notifications (jianguan.notify): email over SMTP and the outbox's retries (docs/configuration.md).
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "jianguan@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
NOTIFY_EMAIL = env_bool("NOTIFY_EMAIL", bool(EMAIL_HOST))  # no SMTP server configured, no email channel
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 10, minimum=1)
NOTIFY_RETRY_BASE_SECONDS = env_int("NOTIFY_RETRY_BASE_SECONDS", 60, minimum=1)
NOTIFY_RETRY_MAX_SECONDS = env_int("NOTIFY_RETRY_MAX_SECONDS", 3600, minimum=1)
NOTIFY_WEBHOOK_TIMEOUT_SECONDS = env_float("NOTIFY_WEBHOOK_TIMEOUT_SECONDS", 10, minimum=0.1)
# Sent and given-up outbox rows older than this are deleted nightly (0 = keep forever); in-app notifications stay.
NOTIFY_OUTBOX_RETENTION_DAYS = env_int("NOTIFY_OUTBOX_RETENTION_DAYS", 90, minimum=0)
SITE_URL = env_str("SITE_URL", "").rstrip("/")  # e.g. https://jg.example.gov.cn: links in mail/robots

# Devices over MQTT (jianguan.sites): the broker for ingest and actuator commands; empty: no broker.
MQTT_URL = env_str("MQTT_URL", "")
# How long an actuator command waits for the device's acknowledgement before it is resent.
ACTUATOR_ACK_TIMEOUT_SECONDS = env_int("ACTUATOR_ACK_TIMEOUT_SECONDS", 60, minimum=1)

# Permits (jianguan.review; docs/configuration.md, "Permits"). The decision limit in days from the day the
# application is complete: 7 (建筑法 as amended in 2019, as commonly cited; the 1999 施工许可管理办法 said 15).
# Incomplete applications are told what is missing within PERMIT_INCOMPLETE_NOTICE_DAYS (行政许可法 第三十二条).
# PERMIT_DAY_COUNT: "calendar" (the law says "days") or "working" (China's holiday calendar, make-up days included).
PERMIT_DECISION_DAYS = env_int("PERMIT_DECISION_DAYS", 7, minimum=1)
PERMIT_INCOMPLETE_NOTICE_DAYS = env_int("PERMIT_INCOMPLETE_NOTICE_DAYS", 5, minimum=1)
PERMIT_DAY_COUNT = env_str("PERMIT_DAY_COUNT", "calendar")
if PERMIT_DAY_COUNT not in ("calendar", "working"):
    raise ImproperlyConfigured(f"PERMIT_DAY_COUNT must be calendar or working, got {PERMIT_DAY_COUNT!r}")
# A permit is approved (审批) by someone other than its reviewer (审核); off: one person may sign both.
PERMIT_SECOND_SIGNOFF = env_bool("PERMIT_SECOND_SIGNOFF", True)

JIANGUAN = {
    "CITY_CODE": env_str("JIANGUAN_CITY_CODE", "371300"),
    "MAP_CENTER": (35.05, 118.35),
}
