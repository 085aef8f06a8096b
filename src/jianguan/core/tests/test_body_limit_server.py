"""A 200 MB upload to the real server (uvicorn + jianguan.asgi, an applicant's token, its project) is refused
while the server's resident memory grows by less than 20 MB: declared (Content-Length, with or without
Expect: 100-continue) and chunked; an accepted upload streams to disk without growing it either."""

from __future__ import annotations

import sys

import pytest

from jianguan.testing.server import multipart_upload, prepare_upload_target, request, uvicorn_server

MB = 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads memory from /proc")
# Smaller than the defaults (50 MiB per file, the cap 1 MiB above) so that the run stays short.
LIMITS = {"UPLOAD_MAX_BYTES": str(8 * MB)}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("var")
    key, project_id = prepare_upload_target(var_dir, **LIMITS)
    with uvicorn_server(var_dir, **LIMITS) as running:
        running.key, running.project_id = key, project_id
        upload(running, 1024)  # warm: the first upload loads the code paths
        yield running


def upload(server, size: int, **options):
    content_type, prefix, suffix = multipart_upload("site.png", PNG, {"kind": "other"})
    headers = {"Authorization": f"Bearer {server.key}", "Content-Type": content_type}
    path = f"/api/projects/{server.project_id}/documents"
    return request(server, "POST", path, headers=headers, body_size=size, prefix=prefix, suffix=suffix, **options)


def peak_growth_mb(server, send) -> tuple[tuple[int | None, int], float]:
    server.reset_peak()
    before, _ = server.memory_kb()
    result = send()
    _, peak = server.memory_kb()
    growth = (peak - before) / 1024
    print(f"status {result[0]}, {result[1] / MB:.0f} MB sent, peak resident memory +{growth:.1f} MB")
    return result, growth


@pytest.mark.parametrize("expect_continue", [True, False])
def test_a_declared_200_mb_upload_is_refused_before_it_is_read(server, expect_continue):
    (status, sent), growth = peak_growth_mb(server, lambda: upload(server, 200 * MB, expect_continue=expect_continue))
    assert status == 413 or (status is None and not expect_continue)  # a client that does not wait may be cut
    assert sent < 200 * MB
    assert growth < 20
    assert request(server, "GET", "/api/me")[0] == 401  # still serving


def test_a_chunked_200_mb_upload_is_refused_at_the_cap(server):
    (status, sent), growth = peak_growth_mb(server, lambda: upload(server, 200 * MB, chunked=True))
    assert status in (413, None)
    assert sent < 200 * MB
    assert growth < 20
    assert request(server, "GET", "/api/me")[0] == 401


def test_a_file_over_the_upload_limit_within_the_cap_is_refused_without_being_held(server):
    (status, _), growth = peak_growth_mb(server, lambda: upload(server, 8 * MB + 100 * 1024))
    assert status == 400  # upload_rejected: 文件过大
    assert growth < 20


def test_an_accepted_upload_streams_to_disk(server):
    (status, _), growth = peak_growth_mb(server, lambda: upload(server, 7 * MB))
    assert status == 201
    assert growth < 20
