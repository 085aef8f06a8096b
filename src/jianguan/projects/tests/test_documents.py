import pytest

from jianguan.projects.documents import UploadRejected, inspect_upload

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_pdf_accepted_and_hashed():
    f = inspect_upload("图纸.pdf", b"%PDF-1.7\n...")
    assert f.content_type == "application/pdf" and len(f.sha256) == 64


@pytest.mark.parametrize(
    "name,content,fragment",
    [
        ("x.pdf", PNG, "不符"),
        ("x.exe", b"MZ\x90\x00", "不支持"),
        ("x.pdf", b"", "为空"),
        ("x", b"%PDF-1.7", "不支持"),
        ("x.jpg", b"%PDF-1.7", "不符"),
    ],
)
def test_rejected(name, content, fragment):
    with pytest.raises(UploadRejected) as exc:
        inspect_upload(name, content)
    assert fragment in exc.value.message


def test_size_limit(settings):
    settings.UPLOAD_MAX_BYTES = 10
    with pytest.raises(UploadRejected, match="过大"):
        inspect_upload("a.pdf", b"%PDF-1.7 0123456789")


def test_photos_only():
    assert inspect_upload("a.png", PNG, photos_only=True).content_type == "image/png"
    with pytest.raises(UploadRejected):
        inspect_upload("a.pdf", b"%PDF-1.7", photos_only=True)


def test_path_components_stripped():
    assert inspect_upload("../../etc/x.pdf", b"%PDF-1.7").name == "x.pdf"
