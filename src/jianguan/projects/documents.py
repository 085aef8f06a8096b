"""Document uploads: content sniffed (not trusted from the name), size-limited, hashed, versioned.

An upload never sits in memory whole. The server refuses a request body declared larger than
REQUEST_BODY_MAX_BYTES before reading it (core.bodylimit); below that, HashingUploadHandler (the only upload
handler) writes each file to a temporary file as it arrives, computing its SHA-256 on the way, and stops
keeping a file as soon as it passes UPLOAD_MAX_BYTES; inspect_upload then reads only the first bytes to sniff
the type, and storage moves the temporary file into place.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler

# Extension -> the MIME types its content may sniff as. DWG is recognised by its own magic below.
ALLOWED = {
    ".pdf": {"application/pdf"},
    ".jpg": {"image/jpeg"},
    ".jpeg": {"image/jpeg"},
    ".png": {"image/png"},
    ".webp": {"image/webp"},
    ".docx": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/zip"},
    ".xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/zip"},
    ".dwg": {"image/vnd.dwg"},
    ".zip": {"application/zip"},
}
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}
SNIFF_BYTES = 8192
CHUNK = 64 * 1024


class UploadRejected(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SniffedFile:
    file: File  # at position 0; a temporary file on disk for real uploads
    name: str
    extension: str
    content_type: str
    sha256: str
    size: int


def _too_large(size: int) -> UploadRejected:
    limit = settings.UPLOAD_MAX_BYTES
    return UploadRejected(f"文件过大：{size / 1048576:.1f} MB，上限 {limit / 1048576:.0f} MB")


class HashingUploadHandler(TemporaryFileUploadHandler):
    """Streams each uploaded file to a temporary file while hashing it; keeps no file over UPLOAD_MAX_BYTES.

    A request declared larger than REQUEST_BODY_MAX_BYTES is refused before anything is read (the server's
    own middleware does so first; this covers other servers and the test client). A file that grows past
    UPLOAD_MAX_BYTES is not kept: the rest of its bytes are read and dropped (the body is capped, so that
    ends soon) and the file is marked, so that the page and the API say "文件过大" like for any other
    rejected upload."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > settings.REQUEST_BODY_MAX_BYTES:
            raise RequestDataTooBig("request body exceeds REQUEST_BODY_MAX_BYTES")

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.hasher = hashlib.sha256()
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received <= settings.UPLOAD_MAX_BYTES:
            self.hasher.update(raw_data)
            self.file.write(raw_data)
        return None

    def file_complete(self, file_size):
        upload = super().file_complete(file_size)
        upload.sha256 = self.hasher.hexdigest()
        upload.received = self.received  # the file's real size, also when it was not kept
        return upload


def _sniff(head: bytes) -> str | None:
    if head[:4] == b"AC10" or head[:4] == b"AC1.":  # AutoCAD DWG: "AC10xx" version magic
        return "image/vnd.dwg"
    if head[:5] == b"%PDF-":
        return "application/pdf"
    kind = filetype.guess(head)
    return kind.mime if kind else None


def _as_file(content: bytes | File) -> File:
    return ContentFile(content) if isinstance(content, bytes | bytearray) else content


def _sha256(file: File) -> str:
    known = getattr(file, "sha256", None)
    if known:
        return known
    hasher = hashlib.sha256()
    file.seek(0)
    for chunk in iter(lambda: file.read(CHUNK), b""):
        hasher.update(chunk)
    return hasher.hexdigest()


def inspect_upload(name: str, content: bytes | File, *, photos_only: bool = False) -> SniffedFile:
    """Checks an upload (bytes, or a file as the upload handler left it) without reading it into memory."""
    file = _as_file(content)
    size = getattr(file, "received", None) or file.size
    if not size:
        raise UploadRejected("文件为空")
    if size > settings.UPLOAD_MAX_BYTES:
        raise _too_large(size)
    ext = PurePath(name).suffix.lower()
    if ext not in ALLOWED:
        raise UploadRejected(f"不支持的文件类型“{ext or '无扩展名'}”；允许：{'、'.join(sorted(ALLOWED))}")
    file.seek(0)
    mime = _sniff(file.read(SNIFF_BYTES))
    if mime is None or mime not in ALLOWED[ext]:
        raise UploadRejected(f"文件内容与扩展名{ext}不符（识别为 {mime or '未知'}）")
    if photos_only and mime not in PHOTO_TYPES:
        raise UploadRejected("进度照片须为 JPEG、PNG 或 WebP 图片")
    sha256 = _sha256(file)
    file.seek(0)
    safe_name = PurePath(name).name[:200]
    return SniffedFile(file, safe_name, ext, mime, sha256, size)
