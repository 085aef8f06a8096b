"""Document uploads: content sniffed (not trusted from the name), size-limited, hashed, versioned.

An upload never sits in memory whole. The server refuses a request body declared larger than
REQUEST_BODY_MAX_BYTES before reading it (core.bodylimit); below that, HashingUploadHandler (the only upload
handler) writes each file to a temporary file as it arrives, computing its SHA-256 on the way, and stops
keeping a file as soon as it passes UPLOAD_MAX_BYTES; inspect_upload then reads only the first bytes to sniff
the type, checks the structure from the file on disk (a PDF must parse, with pypdf's limits tightened; an
Office document must be a real OOXML package of its kind), and storage moves the temporary file into place.
"""

from __future__ import annotations

import hashlib
import posixpath
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

import filetype
import pypdf
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
    ".pptx": {"application/vnd.openxmlformats-officedocument.presentationml.presentation", "application/zip"},
    ".dwg": {"image/vnd.dwg"},
    ".zip": {"application/zip"},
}
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}
SNIFF_BYTES = 8192
CHUNK = 64 * 1024

# --- structure checks: the content must be what its type says, not just start like it -----------------------
# Markup a browser would treat as a web page, refused at the start of a PDF (old browsers sniffed the first bytes).
HTML_MARKERS = (b"<html", b"<!doctype", b"<script", b"<body", b"<head", b"<iframe", b"<svg", b"<?xml-stylesheet")
# pypdf's own limits, tightened: a hostile PDF cannot make the check decompress, walk or allocate much.
PDF_LIMITS = {
    "maximum_declared_stream_length": 20_000_000,
    "zlib_maximum_output_length": 20_000_000,
    "lzw_maximum_output_length": 20_000_000,
    "run_length_maximum_output_length": 20_000_000,
    "array_based_stream_maximum_output_length": 20_000_000,
    "stream_decoding_work_maximum_length": 50_000_000,
    "array_maximum_element_count": 50_000,
    "dictionary_maximum_element_count": 10_000,
    "page_tree_maximum_entries": 20_000,
    "page_tree_maximum_depth": 32,
    "page_tree_maximum_page_entries": 200_000,
    "jbig2dec_binary": None,  # never run an external program on an upload
}
# An Office Open XML package: its main part (found through _rels/.rels) must have the main content type of the
# extension, so a .docx is a Word document (not a macro-enabled .docm, a spreadsheet, or any other ZIP).
OOXML_MAIN_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
}
OFFICE_DOCUMENT_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
ZIP_MAX_ENTRIES = 10_000  # Office documents have tens to hundreds; the central directory is read whole
OOXML_XML_MAX_BYTES = 1024 * 1024  # [Content_Types].xml and _rels/.rels, uncompressed


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


def _check_pdf(file: File) -> None:
    file.seek(0)
    head = file.read(1024).lower()
    if any(marker in head for marker in HTML_MARKERS):
        raise UploadRejected("PDF 文件中含有网页代码（HTML），已拒绝")
    file.seek(0)
    try:
        with pypdf.apply_configuration(**PDF_LIMITS):
            reader = pypdf.PdfReader(file, strict=False, root_object_recovery_limit=1000)
            if reader.is_encrypted and not reader.decrypt(""):
                raise UploadRejected("PDF 文件设有打开密码，无法审查；请上传未加密的文件")
            if len(reader.pages) < 1:
                raise UploadRejected("PDF 文件没有页面")
    except UploadRejected:
        raise
    except Exception as exc:  # pypdf's errors, a limit it hit, or a structure it could not follow
        raise UploadRejected("PDF 文件结构无效或已损坏，无法打开") from exc


def _zip_entry_count(file: File) -> int | None:
    """The number of entries the ZIP's end-of-central-directory record declares (None: no such record)."""
    file.seek(0, 2)
    size = file.tell()
    tail_length = min(size, 65_535 + 22)
    file.seek(size - tail_length)
    tail = file.read(tail_length)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    return int.from_bytes(tail[at + 10 : at + 12], "little")


def _read_small(package: zipfile.ZipFile, name: str) -> bytes:
    info = package.getinfo(name)
    if info.file_size > OOXML_XML_MAX_BYTES:
        raise UploadRejected(f"文件结构异常：{name} 过大")
    data = package.read(info)
    if len(data) > OOXML_XML_MAX_BYTES or b"<!DOCTYPE" in data.upper():
        raise UploadRejected(f"文件结构异常：{name}")
    return data


def _main_part_type(package: zipfile.ZipFile) -> str | None:
    """The content type of the package's main part (the officeDocument relationship's target)."""
    rels = ET.fromstring(_read_small(package, "_rels/.rels"))
    targets = [r.get("Target", "") for r in rels if r.get("Type") == OFFICE_DOCUMENT_REL]
    if len(targets) != 1:
        return None
    part = posixpath.normpath(targets[0].lstrip("/"))
    if part not in package.namelist():
        return None
    types = ET.fromstring(_read_small(package, "[Content_Types].xml"))
    overrides = {t.get("PartName", "").lower(): t.get("ContentType") for t in types if t.tag.endswith("Override")}
    defaults = {t.get("Extension", "").lower(): t.get("ContentType") for t in types if t.tag.endswith("Default")}
    return overrides.get("/" + part.lower()) or defaults.get(posixpath.splitext(part)[1].lstrip(".").lower())


def _check_zip(file: File, ext: str) -> None:
    entries = _zip_entry_count(file)
    if entries is None:
        raise UploadRejected("ZIP 文件结构无效或已损坏")
    if entries >= min(ZIP_MAX_ENTRIES, 0xFFFF):
        raise UploadRejected(f"压缩包内文件过多（上限 {ZIP_MAX_ENTRIES} 个）")
    try:
        file.seek(0)
        with zipfile.ZipFile(file) as package:
            if ext in OOXML_MAIN_TYPES:
                names = set(package.namelist())
                if not {"[Content_Types].xml", "_rels/.rels"} <= names:
                    raise UploadRejected(f"不是有效的 Office 文档（{ext}）：缺少内容类型或关系部件")
                if _main_part_type(package) != OOXML_MAIN_TYPES[ext]:
                    raise UploadRejected(f"文件内容与扩展名{ext}不符（不是该类 Office 文档，或含宏）")
    except UploadRejected:
        raise
    except (zipfile.BadZipFile, ET.ParseError, KeyError, ValueError, EOFError, NotImplementedError) as exc:
        raise UploadRejected("文件结构无效或已损坏，无法打开") from exc


def check_structure(file: File, ext: str, mime: str) -> None:
    """The content is what its type says: a PDF parses; an Office document is a real OOXML package of its kind;
    a ZIP opens. Images and drawings are judged by their magic bytes (filetype) alone."""
    if mime == "application/pdf":
        _check_pdf(file)
    elif ext in OOXML_MAIN_TYPES or ext == ".zip":
        _check_zip(file, ext)


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
    check_structure(file, ext, mime)
    sha256 = _sha256(file)
    file.seek(0)
    safe_name = PurePath(name).name[:200]
    return SniffedFile(file, safe_name, ext, mime, sha256, size)
