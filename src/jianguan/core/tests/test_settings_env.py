"""Configuration is read only in settings.py, through helpers that refuse a bad value and name the variable."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from jianguan.settings import env_bool, env_float, env_int, env_list, env_str

from .test_settings import LEAKED

SRC = Path(__file__).resolve().parents[2]


def test_env_int_refuses_a_non_integer_naming_the_variable(monkeypatch):
    monkeypatch.setenv("DB_CONN_MAX_AGE", "abc")
    with pytest.raises(ImproperlyConfigured, match=r"DB_CONN_MAX_AGE must be an integer, got 'abc'"):
        env_int("DB_CONN_MAX_AGE", 60)


def test_env_int_refuses_a_value_below_its_minimum(monkeypatch):
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "0")
    with pytest.raises(ImproperlyConfigured, match="LOGIN_MAX_FAILURES must be at least 1, got 0"):
        env_int("LOGIN_MAX_FAILURES", 5, minimum=1)


def test_env_int_takes_the_default_when_unset_or_empty(monkeypatch):
    monkeypatch.delenv("X_JG_UNSET", raising=False)
    assert env_int("X_JG_UNSET", 7) == 7
    monkeypatch.setenv("X_JG_UNSET", " ")
    assert env_int("X_JG_UNSET", 7) == 7
    monkeypatch.setenv("X_JG_UNSET", " 12 ")
    assert env_int("X_JG_UNSET", 7) == 12


@pytest.mark.parametrize("value", ["ten", "nan", "inf"])
def test_env_float_refuses_what_is_not_a_finite_number(monkeypatch, value):
    monkeypatch.setenv("NOTIFY_WEBHOOK_TIMEOUT_SECONDS", value)
    with pytest.raises(ImproperlyConfigured, match="NOTIFY_WEBHOOK_TIMEOUT_SECONDS must be a"):
        env_float("NOTIFY_WEBHOOK_TIMEOUT_SECONDS", 10)


def test_env_float_reads_a_decimal(monkeypatch):
    monkeypatch.setenv("NOTIFY_WEBHOOK_TIMEOUT_SECONDS", "2.5")
    assert env_float("NOTIFY_WEBHOOK_TIMEOUT_SECONDS", 10) == 2.5


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("Yes", True), ("on", True), ("0", False), ("off", False)],
)
def test_env_bool_reads_the_usual_spellings(monkeypatch, value, expected):
    monkeypatch.setenv("EMAIL_USE_TLS", value)
    assert env_bool("EMAIL_USE_TLS", not expected) is expected


def test_env_bool_refuses_anything_else_instead_of_reading_it_as_false(monkeypatch):
    monkeypatch.setenv("SECURE_SSL_REDIRECT", "ture")
    with pytest.raises(ImproperlyConfigured, match=r"SECURE_SSL_REDIRECT must be a boolean .*got 'ture'"):
        env_bool("SECURE_SSL_REDIRECT", True)


def test_env_str_and_env_list(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", " a.example, ,b.example ")
    assert env_list("ALLOWED_HOSTS", "") == ["a.example", "b.example"]
    monkeypatch.setenv("LOG_LEVEL", "")
    assert env_str("LOG_LEVEL", "INFO") == "INFO"


def test_a_bad_value_stops_the_program_with_the_variables_name(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in LEAKED}
    env.update(DEBUG="1", JIANGUAN_VAR_DIR=str(tmp_path), DB_CONN_MAX_AGE="abc")
    result = subprocess.run(
        [sys.executable, "-m", "jianguan", "check"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "DB_CONN_MAX_AGE must be an integer, got 'abc'" in result.stderr


def test_configuration_is_read_only_in_the_settings_modules():
    # The entry points may only name the settings module (os.environ.setdefault("DJANGO_SETTINGS_MODULE", …)).
    allowed = {"settings.py", "settings_test.py"}
    offenders = []
    for path in SRC.joinpath("jianguan").rglob("*.py"):
        if path.name in allowed or "tests" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"os\.environ|os\.getenv|getenv\(", line) and "DJANGO_SETTINGS_MODULE" not in line:
                offenders.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert offenders == []
