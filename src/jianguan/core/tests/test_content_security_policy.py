"""A Content-Security-Policy on every page: scripts and styles only from the site itself (its static files and
the vendored libraries), no inline script, handler or style; and the templates keep to it."""

import re
from pathlib import Path

import pytest
from django.test import Client

from jianguan.testing import factories as f

TEMPLATES = Path(__file__).resolve().parents[2]


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}


@pytest.mark.parametrize(
    "path",
    ["/login/", "/projects/", "/account/", "/sites/alarms/", "/sites/monitors/", "/public/", "/admin/", "/api/docs"],
)
def test_every_page_carries_the_policy(bureau_admin, path):
    bureau_admin.is_staff = bureau_admin.is_superuser = True
    bureau_admin.save()
    client = Client()
    client.force_login(bureau_admin)
    response = client.get(path)
    assert response.status_code == 200, path
    directives = policy(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


def test_api_answers_and_errors_carry_it_too(db):
    assert "Content-Security-Policy" in Client().get("/api/me")
    assert "Content-Security-Policy" in Client().get("/no-such-page/")


def test_a_project_page_with_charts_loads_scripts_only_from_static_files(db):
    project = f.staffed_project()
    user = f.UserFactory(role="bureau_admin")
    client = Client()
    client.force_login(user)
    html = client.get(f"/projects/{project.pk}/").content.decode()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert re.search(r'\bsrc="/static/', tag) or 'type="application/json"' in tag, tag


INLINE = [
    (re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on…= event handler"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_templates_hold_no_inline_script_handler_or_style():
    found = []
    for path in sorted(TEMPLATES.rglob("templates/**/*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}")
    assert found == []
