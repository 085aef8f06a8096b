"""Serving a document version for the workspace's preview: never as the upload's own web page.

The response carries the content type the upload handler sniffed (projects/documents.py: the bytes decided it, not
the name or the browser), `X-Content-Type-Options: nosniff`, and `Content-Security-Policy: sandbox` with nothing
allowed to load: opened on its own, even a file that got past the checks runs no script, submits no form and reaches
no origin. Only PDFs (shown by the vendored PDF.js, which reads the bytes and draws them) and images (an <img>) are
served inline; anything else is an attachment."""

from __future__ import annotations

from django.http import FileResponse

from jianguan.core import audit
from jianguan.core.permissions import require
from jianguan.projects.models import DocumentVersion

from . import permissions

INLINE_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "image/webp", "image/gif"})
SANDBOX = "sandbox; default-src 'none'; frame-ancestors 'none'"


def kind(version: DocumentVersion) -> str:
    """How the workspace shows it: "pdf", "image", or "none" (download only)."""
    if version.content_type == "application/pdf":
        return "pdf"
    if version.content_type in INLINE_TYPES:
        return "image"
    return "none"


def response(user, version: DocumentVersion) -> FileResponse:
    project = version.document.project
    require(permissions.may_preview(user, project), "您无权查看该文件")
    audit.record(user, "download", version, project=project, label=f"预览 {version.document} v{version.number}")
    inline = version.content_type in INLINE_TYPES
    answer = FileResponse(
        version.file.open("rb"),
        as_attachment=not inline,
        filename=version.original_name,
        content_type=version.content_type if inline else "application/octet-stream",
    )
    answer["X-Content-Type-Options"] = "nosniff"
    answer["Content-Security-Policy"] = SANDBOX
    answer["Cache-Control"] = "private, no-store"
    return answer
