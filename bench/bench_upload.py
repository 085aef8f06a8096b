"""What an upload costs the server's memory: the real server (uvicorn + jianguan.asgi) with the default limits
(UPLOAD_MAX_BYTES 50 MiB, REQUEST_BODY_MAX_BYTES 51 MiB), an applicant's token and its project.

    ./run bench upload                 # 200 MB refused (declared, declared without waiting, chunked), 45 MB kept
    ./run bench upload --size-mb 500

Prints, per case, the answer, how much of the body was sent before it, and how much the server process's
peak resident memory (VmHWM, reset before each case) grew over its resident memory before the request.
Goal: a refused 200 MB upload grows it by less than 20 MB; an accepted upload too (streamed to disk).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from jianguan.testing.server import multipart_upload, prepare_upload_target, request, uvicorn_server

MB = 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200, help="size of the refused uploads")
    parser.add_argument("--kept-mb", type=int, default=45, help="size of the accepted upload (under 50)")
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="jianguan-bench-upload-"))
    key, project_id = prepare_upload_target(var_dir)
    content_type, prefix, suffix = multipart_upload("site.png", PNG, {"kind": "other"})
    headers = {"Authorization": f"Bearer {key}", "Content-Type": content_type}
    path = f"/api/projects/{project_id}/documents"

    with uvicorn_server(var_dir) as server:

        def upload(size: int, **options):
            return request(
                server, "POST", path, headers=headers, body_size=size, prefix=prefix, suffix=suffix, **options
            )

        upload(1024)  # warm-up
        cases = [
            (f"{args.size_mb} MB, Content-Length, Expect: 100-continue", args.size_mb * MB, {"expect_continue": True}),
            (f"{args.size_mb} MB, Content-Length, sent without waiting", args.size_mb * MB, {}),
            (f"{args.size_mb} MB, chunked (no length)", args.size_mb * MB, {"chunked": True}),
            (f"{args.kept_mb} MB, accepted", args.kept_mb * MB, {}),
        ]
        print(f"{'case':58} {'answer':>6} {'sent':>8} {'RSS before':>11} {'peak +':>8} {'time':>6}")
        for label, size, options in cases:
            server.reset_peak()
            before, _ = server.memory_kb()
            started = time.perf_counter()
            status, sent = upload(size, **options)
            elapsed = time.perf_counter() - started
            _, peak = server.memory_kb()
            print(
                f"{label:58} {status or 'cut':>6} {sent / MB:>6.0f}MB {before / 1024:>9.1f}MB"
                f" {(peak - before) / 1024:>6.1f}MB {elapsed:>5.2f}s"
            )


if __name__ == "__main__":
    main()
