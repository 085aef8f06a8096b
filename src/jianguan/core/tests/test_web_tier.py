"""The web tier's fast paths and bounds: the liveness route touches no database, a bearer token costs one
indexed look-up (user, department and jurisdiction included), a signed-in page request one for the user, and on
PostgreSQL a process never holds more connections than its pool's bound, however many threads ask."""

from __future__ import annotations

import threading
import time

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from jianguan.accounts.models import ApiToken
from jianguan.testing.fixtures import services_enabled


def test_the_liveness_route_answers_without_the_database(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().get("/healthz")
    assert response.status_code == 200 and response.content == b"ok\n"


def test_a_bearer_token_costs_one_indexed_lookup(lanshan_regulator):
    _, key = ApiToken.issue(lanshan_regulator, "machine")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    client.get("/api/me")  # the first use records last_used_at (at most once a minute)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/me")
    assert response.status_code == 200 and response.json()["department"] == "兰山区住建局"
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert "accounts_apitoken" in queries[0]["sql"] and '"key_hash" =' in queries[0]["sql"]


def test_a_session_user_comes_with_department_and_jurisdiction(lanshan_regulator):
    client = Client()
    client.force_login(lanshan_regulator)
    client.get("/api/me")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/me").status_code == 200
    assert len(queries) == 1 and "core_jurisdiction" in queries[0]["sql"]  # the session itself from the cache


@pytest.mark.services
@pytest.mark.skipif(not services_enabled(), reason="needs PostgreSQL (JIANGUAN_TEST_SERVICES=1)")
@pytest.mark.django_db(transaction=True)
def test_threads_beyond_the_pool_wait_for_a_connection_instead_of_opening_more():
    import psycopg

    bound = settings.DB_POOL_MAX_SIZE
    assert connection.vendor == "postgresql" and connection.settings_dict["OPTIONS"]["pool"]["max_size"] == bound
    database = connection.settings_dict["NAME"]
    params = connection.get_connection_params()
    params.pop("pool", None)
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        with psycopg.connect(**params, autocommit=True) as watcher:  # not from the pool; counted, so minus one
            while not done.is_set():
                query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
                peak = max(peak, watcher.execute(query, [database]).fetchone()[0] - 1)
                time.sleep(0.01)

    def request_like():
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_sleep(0.1)")
        finally:
            connections.close_all()  # what the end of a request does: back to the pool

    watcher = threading.Thread(target=sample)
    watcher.start()
    workers = [threading.Thread(target=request_like) for _ in range(4 * bound)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    done.set()
    watcher.join()
    assert 1 < peak <= bound
    assert time.monotonic() - started >= 0.35  # they queued: about four rounds of 0.1 s
