"""The settings module as production and the demo see it, in fresh processes."""

import os
import subprocess
import sys

import pytest

# What settings_test.py put into this process's environment must not leak into the "production" child.
LEAKED = {
    "DJANGO_SETTINGS_MODULE",
    "SECRET_KEY",
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "ALLOWED_HOSTS",
    "JIANGUAN_VAR_DIR",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "JIANGUAN_DEMO",
}


def run(args, **env):
    base = {k: v for k, v in os.environ.items() if k not in LEAKED}
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "jianguan", *args], env=base, capture_output=True, text=True, timeout=120
    )


def test_production_check_deploy_passes(tmp_path):
    result = run(
        ["check", "--deploy", "--fail-level", "WARNING"],
        SECRET_KEY="a-production-secret-" + "k" * 40,
        ALLOWED_HOSTS="jg.linyi.example",
        JIANGUAN_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_requires_secret_key(tmp_path):
    result = run(["check"], JIANGUAN_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("url", ["sqlite:///{tmp}/x.sqlite3", "postgres://u@db.example:5432/jg"])
def test_database_url(tmp_path, url):
    code = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"
    base = {k: v for k, v in os.environ.items() if k not in LEAKED}
    base.update(DEBUG="1", JIANGUAN_VAR_DIR=str(tmp_path), DATABASE_URL=url.format(tmp=tmp_path))
    base["DJANGO_SETTINGS_MODULE"] = "jianguan.settings"
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code], env=base, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert ("sqlite3" if url.startswith("sqlite") else "postgresql") in out.stdout
