"""The one settings module. Every deployment difference is an environment variable (docs/configuration.md)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


BASE_DIR = Path(__file__).resolve().parent
# Runtime state (SQLite file, media, keys) lives in ./var of the working directory unless configured.
VAR_DIR = Path(os.environ.get("JIANGUAN_VAR_DIR", Path.cwd() / "var")).resolve()

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
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
    "huey.contrib.djhuey",
    "ninja",  # serves the API docs (Swagger UI) from local static files, no CDN
    "jianguan.core",
    "jianguan.accounts",
    "jianguan.registry",
    "jianguan.projects",
    "jianguan.ledger",
    "jianguan.sites",
    "jianguan.notify",
    "jianguan.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
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
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'jianguan.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
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
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "projects:list"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REDIS_URL = os.environ.get("REDIS_URL", "")


def _redis_database_for_test_worker(url: str, worker: str) -> str:
    """pytest-xdist workers share one REDIS_URL: give worker gwN the database N above the configured one, so
    one worker's cache.clear() (a FLUSHDB) cannot wipe another's login counters or task queue."""
    parsed = urlparse(url)
    base = int(parsed.path.strip("/") or 0)
    return parsed._replace(path=f"/{base + int(worker.removeprefix('gw'))}").geturl()


if REDIS_URL and os.environ.get("PYTEST_XDIST_WORKER", "").startswith("gw"):
    REDIS_URL = _redis_database_for_test_worker(REDIS_URL, os.environ["PYTEST_XDIST_WORKER"])
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"  # never served directly: documents go through permission-checked views

# Uploads: sniffed and size-limited in jianguan.projects.documents.
UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", str(50 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Login throttling (jianguan.accounts.throttle): failures per username and per IP within the window.
# Threads (each with one database connection) shared by all open live-alarm pages' polls (sites/live.py).
LIVE_ALARM_POLL_THREADS = int(os.environ.get("LIVE_ALARM_POLL_THREADS", "4"))
LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
LOGIN_FAILURE_WINDOW_SECONDS = int(os.environ.get("LOGIN_FAILURE_WINDOW_SECONDS", "900"))

# Production hardening: on unless DEBUG, each switchable for a TLS-terminating proxy set-up.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

NINJA_PAGINATION_PER_PAGE = 20
NINJA_PAGINATION_MAX_LIMIT = 200

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Background jobs and schedules: huey. Embedded: a SQLite queue file and a consumer thread inside the demo
# process; production: Redis (REDIS_URL) and `jianguan run_huey` workers, as many as needed.
HUEY = {
    "name": "jianguan",
    "huey_class": "huey.RedisHuey" if REDIS_URL else "huey.SqliteHuey",
    "immediate": env_bool("HUEY_IMMEDIATE", False),
    "utc": True,
    "connection": {"url": REDIS_URL} if REDIS_URL else {"filename": str(VAR_DIR / "tasks.sqlite3")},
    "consumer": {"workers": int(os.environ.get("HUEY_WORKERS", "2")), "worker_type": "thread"},
}

# Evidence log (jianguan.ledger): the checkpoint origin line and the Ed25519 signer key file.
LEDGER_ORIGIN = os.environ.get("LEDGER_ORIGIN", "jianguan.linyi/evidence")
LEDGER_SIGNING_KEY_FILE = os.environ.get("LEDGER_SIGNING_KEY_FILE", str(VAR_DIR / "ledger-signing.key"))
# Production brings its own key (a missing file is an error); the demo and tests generate one.
LEDGER_GENERATE_KEY = env_bool("LEDGER_GENERATE_KEY", DEBUG or env_bool("JIANGUAN_DEMO", False))
LEDGER_CHECKPOINT_MINUTES = int(os.environ.get("LEDGER_CHECKPOINT_MINUTES", "10"))

# Smart-site readings at volume (jianguan.sites.readings.aggregates): hourly/daily roll-ups, raw-data retention.
# The roll-up job recomputes the last N hours every 10 minutes (late, spooled data lands in them).
READINGS_ROLLUP_LOOKBACK_HOURS = int(os.environ.get("READINGS_ROLLUP_LOOKBACK_HOURS", "6"))
# Raw readings older than this many days are deleted once their day is aggregated (0 = keep forever);
# hourly aggregates are kept READINGS_HOURLY_RETENTION_DAYS (0 = forever), daily aggregates forever.
READINGS_RETENTION_DAYS = int(os.environ.get("READINGS_RETENTION_DAYS", "180"))
READINGS_HOURLY_RETENTION_DAYS = int(os.environ.get("READINGS_HOURLY_RETENTION_DAYS", "730"))

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
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "jianguan@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
NOTIFY_EMAIL = env_bool("NOTIFY_EMAIL", bool(EMAIL_HOST))  # no SMTP server configured, no email channel
NOTIFY_MAX_ATTEMPTS = int(os.environ.get("NOTIFY_MAX_ATTEMPTS", "10"))
NOTIFY_RETRY_BASE_SECONDS = int(os.environ.get("NOTIFY_RETRY_BASE_SECONDS", "60"))
NOTIFY_RETRY_MAX_SECONDS = int(os.environ.get("NOTIFY_RETRY_MAX_SECONDS", "3600"))
NOTIFY_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("NOTIFY_WEBHOOK_TIMEOUT_SECONDS", "10"))
# Sent and given-up outbox rows older than this are deleted nightly (0 = keep forever); in-app notifications stay.
NOTIFY_OUTBOX_RETENTION_DAYS = int(os.environ.get("NOTIFY_OUTBOX_RETENTION_DAYS", "90"))
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")  # e.g. https://jg.example.gov.cn: links in mail/robots

JIANGUAN = {
    "CITY_CODE": os.environ.get("JIANGUAN_CITY_CODE", "371300"),
    "MAP_CENTER": (35.05, 118.35),
}
