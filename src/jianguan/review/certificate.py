"""The printable permit certificate (PDF): the permit's number and facts as issued, the issuer, and a QR code that
opens the public verification page.

Rendered by WeasyPrint from an HTML template (review/certificate.html) with Noto Serif CJK (Debian's
fonts-noto-cjk, installed by ./run; docs/deployment.md), so the Chinese text is embedded as a font subset and prints
the same everywhere. The QR code is a PNG from segno (pure Python). WeasyPrint needs Pango, which Debian's base
image carries; `available()` says whether this machine can render, and the pages answer 503 with the reason when
it cannot rather than print boxes instead of characters."""

from __future__ import annotations

import base64
import io
import subprocess
from functools import cache

from django.template.loader import render_to_string

from .models import Permit

FONT_FAMILY = "Noto Serif CJK SC"


class CertificateUnavailable(Exception):
    """This machine cannot render the certificate (WeasyPrint's system libraries or the CJK font missing)."""


def qr_png(data: str, scale: int = 8) -> bytes:
    import segno

    out = io.BytesIO()
    segno.make(data, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


@cache
def _font_installed() -> bool:
    try:
        found = subprocess.run(["fc-list", f":family={FONT_FAMILY}", "family"], capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return FONT_FAMILY.encode() in found.stdout


def unavailable_reason() -> str | None:
    try:
        import weasyprint  # noqa: F401  (loads Pango through cffi)
    except (ImportError, OSError) as exc:
        return f"证书生成组件不可用（WeasyPrint：{exc}）"
    if not _font_installed():
        return f"服务器缺少中文字体 {FONT_FAMILY}（Debian：apt-get install fonts-noto-cjk）"
    return None


def render(permit: Permit, verification_url: str) -> bytes:
    reason = unavailable_reason()
    if reason:
        raise CertificateUnavailable(reason)
    import weasyprint

    qr = "data:image/png;base64," + base64.b64encode(qr_png(verification_url)).decode()
    html = render_to_string(
        "review/certificate.html",
        {"permit": permit, "facts": permit.facts, "qr": qr, "url": verification_url, "font": FONT_FAMILY},
    )
    from django.contrib.staticfiles import finders

    style = weasyprint.CSS(filename=finders.find("jianguan/certificate.css"))
    return weasyprint.HTML(string=html).write_pdf(stylesheets=[style])  # the PDF's title: the template's <title>


def filename(permit: Permit) -> str:
    return f"施工许可证-{permit.number}.pdf"
