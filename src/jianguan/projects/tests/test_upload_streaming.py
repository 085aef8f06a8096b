"""Uploads are never held in memory whole: refused by declared size before reading, streamed to a temporary
file while hashed, and not kept past UPLOAD_MAX_BYTES (the page and the API say 文件过大)."""

from __future__ import annotations

import hashlib
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.test import Client

from jianguan.accounts.models import ApiToken, User
from jianguan.projects import documents
from jianguan.projects.models import DocumentVersion
from jianguan.registry.models import Enterprise
from jianguan.testing import factories as f

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def applicant(lanshan):
    developer = f.EnterpriseFactory(kind=Enterprise.Kind.DEVELOPER)
    user = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=developer)
    project = f.ProjectFactory(applicant=developer, jurisdiction=lanshan)
    _, key = ApiToken.issue(user, "t")
    return project, user, Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def completed_files(monkeypatch):
    """What the upload handler handed on: the file objects, as they were."""
    seen = []
    original = documents.HashingUploadHandler.file_complete

    def spy(self, file_size):
        upload = original(self, file_size)
        seen.append((upload, os.path.getsize(upload.temporary_file_path()), upload.size))
        return upload

    monkeypatch.setattr(documents.HashingUploadHandler, "file_complete", spy)
    return seen


def post_file(client, project, content: bytes, name: str = "site.png"):
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return client.post(f"/api/projects/{project.pk}/documents", {"kind": "other", "file": upload})


def test_an_upload_streams_to_a_temporary_file_and_is_hashed_on_the_way(applicant, completed_files):
    project, _, client = applicant
    content = PNG + bytes(range(256)) * 400
    response = post_file(client, project, content)
    assert response.status_code == 201, response.content
    [(upload, written, _)] = completed_files
    assert isinstance(upload, TemporaryUploadedFile)  # on disk, even for a small file
    assert written == len(content)
    version = DocumentVersion.objects.get()
    assert version.sha256 == hashlib.sha256(content).hexdigest() == upload.sha256
    assert version.size == len(content)
    with version.file.open("rb") as stored:
        assert stored.read() == content


def test_a_file_over_the_limit_is_not_kept_and_is_refused_clearly(applicant, completed_files, settings):
    project, _, client = applicant
    settings.UPLOAD_MAX_BYTES = 2000
    response = post_file(client, project, PNG + b"\x00" * 100_000)
    assert response.status_code == 400
    assert response.json()["code"] == "upload_rejected" and "文件过大" in response.json()["detail"]
    [(_, written, _)] = completed_files
    assert written <= 2000  # the rest was read and dropped, never written or held
    assert not DocumentVersion.objects.exists()


def test_a_request_declared_over_the_body_cap_is_413_before_it_is_parsed(applicant, completed_files, settings):
    project, _, client = applicant
    settings.REQUEST_BODY_MAX_BYTES = 10_000
    response = post_file(client, project, PNG + b"\x00" * 50_000)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert completed_files == []  # no file was started


def test_the_upload_page_says_the_file_is_too_large(applicant, settings):
    project, user, _ = applicant
    settings.UPLOAD_MAX_BYTES = 2000
    client = Client()
    client.force_login(user)
    upload = SimpleUploadedFile("site.png", PNG + b"\x00" * 10_000)
    response = client.post(
        f"/projects/{project.pk}/documents/", {"kind": "other", "title": "照片", "file": upload}, follow=True
    )
    assert response.status_code == 200
    assert "文件过大" in response.content.decode()
    assert not DocumentVersion.objects.exists()


def test_inspect_upload_reads_only_the_head_of_a_file(tmp_path):
    class CountingFile(SimpleUploadedFile):
        read_sizes: list[int] = []

        def read(self, size=-1):
            self.read_sizes.append(size)
            return super().read(size)

    upload = CountingFile("a.png", PNG + b"\x00" * 1_000_000)
    upload.sha256 = "0" * 64  # as the upload handler leaves it
    sniffed = documents.inspect_upload(upload.name, upload)
    assert sniffed.size == len(PNG) + 1_000_000
    assert all(0 < size <= documents.SNIFF_BYTES for size in CountingFile.read_sizes)
