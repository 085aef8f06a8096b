"""Every way to present a password goes through one throttle: the login page, POST /api/auth/token and the
Django admin share the same counters (per user name and per client address)."""

import pytest
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.test import Client

from jianguan.accounts import throttle
from jianguan.testing import factories as f

PASSWORD = "pw-123456"  # the factories' password


@pytest.fixture
def superuser(db):
    return f.UserFactory(username="root", is_staff=True, is_superuser=True)


def failures(username: str) -> int:
    return cache.get(throttle._keys(username, None)[0]) or 0


def admin_login(client: Client, password: str):
    return client.post("/admin/login/?next=/admin/", {"username": "root", "password": password, "next": "/admin/"})


def test_admin_login_is_throttled_after_30_wrong_passwords_the_right_one_does_not_get_in(superuser):
    client = Client()
    for _ in range(30):
        response = admin_login(client, "guess")
        assert response.status_code == 200  # the form again, not a redirect into the admin
    assert failures("root") >= 5  # the failures count in the shared counters
    response = admin_login(client, PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "登录失败次数过多" in response.content.decode()
    assert client.get("/admin/").status_code == 302  # still sent to the login page


def test_admin_failures_lock_the_login_page_and_the_api_token(superuser, settings):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        admin_login(Client(), "guess")
    page = Client().post("/login/", {"username": "root", "password": PASSWORD})
    assert page.status_code == 429
    assert "登录失败次数过多" in page.content.decode()
    api = Client().post("/api/auth/token", {"username": "root", "password": PASSWORD}, content_type="application/json")
    assert api.status_code == 429
    assert api.json()["code"] == "locked" and "登录失败次数过多" in api.json()["detail"]


def test_login_page_failures_lock_the_admin(superuser, settings):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        assert Client().post("/login/", {"username": "root", "password": "guess"}).status_code == 200
    response = admin_login(Client(), PASSWORD)
    assert "登录失败次数过多" in response.content.decode()


def test_the_admin_lets_the_right_password_in_and_clears_the_counter(superuser):
    admin_login(Client(), "guess")
    assert failures("root") == 1
    client = Client()
    response = admin_login(client, PASSWORD)
    assert response.status_code == 302
    assert failures("root") == 0


def test_any_caller_of_authenticate_is_throttled(superuser, settings):
    # The backend itself holds the lock, so a door added later cannot forget it.
    for _ in range(settings.LOGIN_MAX_FAILURES):
        assert authenticate(None, username="ROOT ", password="guess") is None
    assert authenticate(None, username="root", password=PASSWORD) is None


def test_one_address_guessing_many_user_names_is_locked_out(db, settings):
    f.UserFactory(username="victim")
    for n in range(settings.LOGIN_MAX_FAILURES * 4):
        Client(REMOTE_ADDR="10.0.0.9").post("/login/", {"username": f"user{n}", "password": "guess"})
    locked = Client(REMOTE_ADDR="10.0.0.9").post("/login/", {"username": "victim", "password": PASSWORD})
    assert locked.status_code == 429
    other = Client(REMOTE_ADDR="10.0.0.10").post("/login/", {"username": "victim", "password": PASSWORD})
    assert other.status_code == 302


def test_any_user_name_makes_a_short_cache_key_of_safe_characters():
    """Found by the fuzz run: the name as typed went into the key (memcached refuses spaces and control
    characters, and a long name made a long key)."""
    from jianguan.accounts.throttle import _keys

    for name in ("alice", " Alice ", "王 五\x1a\n", "x" * 10_000):
        key = _keys(name, None)[0]
        assert len(key) < 100 and key.isascii() and key.isprintable() and " " not in key
    assert _keys(" Alice ", None) == _keys("alice", None)
