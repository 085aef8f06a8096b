"""Test-run defaults: the real settings module, with environment defaults a test run needs.

Only defaults are set here; a test run against PostgreSQL passes DATABASE_URL as production would.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-not-secret-" + "x" * 40)
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("JIANGUAN_VAR_DIR", tempfile.mkdtemp(prefix="jianguan-test-"))
os.environ.setdefault("LEDGER_GENERATE_KEY", "1")
os.environ.setdefault("HUEY_IMMEDIATE", "1")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from .settings import *  # noqa: F403

# Fast hashing: the tests create many users; production keeps Django's PBKDF2 default.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Parallel workers (and earlier runs) share the Redis cache: each test process gets its own key space,
# so one worker's failed logins never lock another worker's test user.
CACHES["default"]["KEY_PREFIX"] = f"test-{os.getpid()}"  # noqa: F405
# The suite's second pass (CI) runs the service tests against PostgreSQL, Redis and Mosquitto.
JIANGUAN_TEST_SERVICES = env_bool("JIANGUAN_TEST_SERVICES", False)  # noqa: F405
