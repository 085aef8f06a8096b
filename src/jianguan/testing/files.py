"""Small real files for upload tests: a PDF that parses, OOXML packages as Office writes them, and crafted
look-alikes (HTML behind a PDF header, a ZIP that is not a document)."""

from __future__ import annotations

import io
import zipfile

from pypdf import PdfWriter

OOXML_MAIN = {
    ".docx": ("word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    ".xlsx": ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    ".pptx": (
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    ),
}
OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"


def make_pdf(pages: int = 1, title: str = "测试文件", *, user_password: str | None = None) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    if user_password is not None:
        writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = make_pdf()


def content_types(part: str, content_type: str, *, doctype: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{doctype}'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{part}" ContentType="{content_type}"/>'
        "</Types>"
    )


def package_rels(target: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{OFFICE_DOCUMENT}" Target="{target}"/>'
        "</Relationships>"
    )


def make_zip(entries: dict[str, str | bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in entries.items():
            package.writestr(name, data)
    return out.getvalue()


def ooxml_entries(extension: str, *, main_type: str | None = None) -> dict[str, str | bytes]:
    part, content_type = OOXML_MAIN[extension]
    return {
        "[Content_Types].xml": content_types(part, main_type or content_type),
        "_rels/.rels": package_rels(part),
        part: '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><root/>',
    }


def make_ooxml(extension: str, *, main_type: str | None = None) -> bytes:
    """A minimal package of the kind (.docx, .xlsx, .pptx) with its main part and content types."""
    return make_zip(ooxml_entries(extension, main_type=main_type))
