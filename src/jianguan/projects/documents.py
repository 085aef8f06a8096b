"""Document uploads: content sniffed (not trusted from the name), size-limited, hashed, versioned."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePath

import filetype
from django.conf import settings

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


class UploadRejected(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SniffedFile:
    content: bytes
    name: str
    extension: str
    content_type: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


def _sniff(head: bytes) -> str | None:
    if head[:4] == b"AC10" or head[:4] == b"AC1.":  # AutoCAD DWG: "AC10xx" version magic
        return "image/vnd.dwg"
    if head[:5] == b"%PDF-":
        return "application/pdf"
    kind = filetype.guess(head)
    return kind.mime if kind else None


def inspect_upload(name: str, content: bytes, *, photos_only: bool = False) -> SniffedFile:
    limit = settings.UPLOAD_MAX_BYTES
    if not content:
        raise UploadRejected("文件为空")
    if len(content) > limit:
        raise UploadRejected(f"文件过大：{len(content) / 1048576:.1f} MB，上限 {limit / 1048576:.0f} MB")
    ext = PurePath(name).suffix.lower()
    if ext not in ALLOWED:
        raise UploadRejected(f"不支持的文件类型“{ext or '无扩展名'}”；允许：{'、'.join(sorted(ALLOWED))}")
    mime = _sniff(content[:8192])
    if mime is None or mime not in ALLOWED[ext]:
        raise UploadRejected(f"文件内容与扩展名{ext}不符（识别为 {mime or '未知'}）")
    if photos_only and mime not in PHOTO_TYPES:
        raise UploadRejected("进度照片须为 JPEG、PNG 或 WebP 图片")
    safe_name = PurePath(name).name[:200]
    return SniffedFile(content, safe_name, ext, mime, hashlib.sha256(content).hexdigest())
