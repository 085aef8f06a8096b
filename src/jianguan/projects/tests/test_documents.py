import io
import zipfile

import pytest

from jianguan.projects.documents import ZIP_MAX_ENTRIES, UploadRejected, inspect_upload
from jianguan.testing import files

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = files.PDF


def test_pdf_accepted_and_hashed():
    f = inspect_upload("图纸.pdf", PDF)
    assert f.content_type == "application/pdf" and len(f.sha256) == 64


@pytest.mark.parametrize(
    "name,content,fragment",
    [
        ("x.pdf", PNG, "不符"),
        ("x.exe", b"MZ\x90\x00", "不支持"),
        ("x.pdf", b"", "为空"),
        ("x", PDF, "不支持"),
        ("x.jpg", PDF, "不符"),
    ],
)
def test_rejected(name, content, fragment):
    with pytest.raises(UploadRejected) as exc:
        inspect_upload(name, content)
    assert fragment in exc.value.message


def test_size_limit(settings):
    settings.UPLOAD_MAX_BYTES = 10
    with pytest.raises(UploadRejected, match="过大"):
        inspect_upload("a.pdf", PDF)


def test_photos_only():
    assert inspect_upload("a.png", PNG, photos_only=True).content_type == "image/png"
    with pytest.raises(UploadRejected):
        inspect_upload("a.pdf", PDF, photos_only=True)


def test_path_components_stripped():
    assert inspect_upload("../../etc/x.pdf", PDF).name == "x.pdf"


# --- a PDF must parse ---------------------------------------------------------------------------------------


def rejected(name: str, content: bytes) -> str:
    with pytest.raises(UploadRejected) as exc:
        inspect_upload(name, content)
    return exc.value.message


def test_html_after_a_pdf_header_is_refused():
    assert "HTML" in rejected("x.pdf", b"%PDF-1.7\n<html><body><script>alert(document.cookie)</script></body></html>")


def test_html_inside_an_otherwise_valid_pdf_is_refused():
    header, _, rest = PDF.partition(b"\n")
    assert "HTML" in rejected("x.pdf", header + b"\n%<!DOCTYPE html><script>alert(1)</script>\n" + rest)


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.4\n%%EOF\n",
        b"%PDF-1.7\n" + b"\x00" * 4096,
        PDF[: len(PDF) // 2],
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n%%EOF",
    ],
    ids=["header-only", "header-and-zeros", "truncated", "no-pages"],
)
def test_a_pdf_that_does_not_parse_or_has_no_page_is_refused(content):
    message = rejected("x.pdf", content)
    assert "PDF" in message


def test_a_page_tree_that_points_to_itself_is_refused_quickly():
    looping = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[2 0 R 3 0 R]/Count 2>>endobj\n"
        b"3 0 obj<</Type/Pages/Kids[2 0 R]/Count 1>>endobj\n"
        b"trailer<</Root 1 0 R/Size 4>>\n%%EOF\n"
    )
    assert "PDF" in rejected("x.pdf", looping)


def test_a_pdf_with_an_opening_password_is_refused_one_with_only_restrictions_is_kept():
    assert "密码" in rejected("x.pdf", files.make_pdf(user_password="secret"))
    assert inspect_upload("x.pdf", files.make_pdf(user_password="")).content_type == "application/pdf"


def test_a_multi_page_pdf_is_accepted():
    assert inspect_upload("plan.pdf", files.make_pdf(pages=30)).size > 0


# --- an Office document must be a real OOXML package of its kind -------------------------------------------


@pytest.mark.parametrize("ext", [".docx", ".xlsx", ".pptx"])
def test_a_real_office_package_is_accepted(ext):
    assert inspect_upload(f"合同{ext}", files.make_ooxml(ext)).extension == ext


def test_any_zip_is_not_a_docx():
    plain = files.make_zip({"readme.txt": "hello", "word/document.xml": "<x/>"})
    assert "Office" in rejected("合同.docx", plain)


def test_a_spreadsheet_named_docx_is_refused():
    assert "不符" in rejected("合同.docx", files.make_ooxml(".xlsx"))


def test_a_macro_enabled_document_named_docx_is_refused():
    macro = files.make_ooxml(".docx", main_type="application/vnd.ms-word.document.macroEnabled.main+xml")
    assert "宏" in rejected("合同.docx", macro)


def test_a_main_part_the_package_does_not_contain_is_refused():
    entries = files.ooxml_entries(".xlsx")
    del entries["xl/workbook.xml"]
    assert "不符" in rejected("表.xlsx", files.make_zip(entries))


def test_a_doctype_in_the_package_xml_is_refused():
    entries = files.ooxml_entries(".docx")
    entries["[Content_Types].xml"] = files.content_types(
        "word/document.xml",
        files.OOXML_MAIN[".docx"][1],
        doctype='<!DOCTYPE t [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    )
    assert "结构异常" in rejected("合同.docx", files.make_zip(entries))


def test_a_content_types_part_that_inflates_hugely_is_refused_without_inflating_it():
    entries = files.ooxml_entries(".docx")
    entries["[Content_Types].xml"] = entries["[Content_Types].xml"] + " " * (4 * 1024 * 1024)  # 4 MB of spaces
    package = files.make_zip(entries)
    assert len(package) < 100_000
    assert "过大" in rejected("合同.docx", package)


def test_a_zip_with_too_many_entries_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for n in range(ZIP_MAX_ENTRIES + 1):
            package.writestr(f"{n}", b"")
    assert "过多" in rejected("材料.zip", out.getvalue())


def test_a_zip_must_open():
    assert inspect_upload("材料.zip", files.make_zip({"a.txt": "x"})).content_type == "application/zip"
    broken = files.make_zip({"a.txt": "x"})[:-10]
    assert "无效" in rejected("材料.zip", broken)
