"""Fixtures and helpers of the adversarial suite: English messages, private media in a temporary folder, hostile input."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image, ImageDraw

PASSWORD = "Correct-Horse-42"  # tests.factories.UserFactory's password

# Hostile text: markup, template syntax (must never be evaluated), and what must be refused outright.
SCRIPT = '<script>alert("xss")</script><img src=x onerror=alert(1)>'
TEMPLATE = "{{ request.user.password }}{% debug %}{{ settings.SECRET_KEY }}"
NUL = "abc\x00def"
RLO = "Acme\u202egpj.exe"
HUGE = "A" * 100 * 1024


@pytest.fixture(autouse=True)
def _english(settings, tmp_path, client):
    settings.LANGUAGE_CODE = "en"
    settings.MEDIA_ROOT = tmp_path / "media"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def no_tasks(monkeypatch):
    """The certificate tasks are recorded instead of published (tests that need a PDF render it directly)."""
    from certificates import tasks

    published = []
    monkeypatch.setattr(tasks.generate_certificate, "delay", lambda *a: published.append(("certificate", *a)))
    monkeypatch.setattr(tasks.generate_refusal_notice, "delay", lambda *a: published.append(("refusal", *a)))
    return published


def portrait_bytes(size=(400, 500), fmt="PNG", **save) -> bytes:
    """A colour portrait photo that passes the photo rules."""
    im = Image.new("RGB", size, (70, 130, 200))
    draw = ImageDraw.Draw(im)
    w, h = size
    draw.ellipse((w * 0.3, h * 0.15, w * 0.7, h * 0.6), fill=(225, 180, 150))
    draw.rectangle((w * 0.15, h * 0.65, w * 0.85, h), fill=(40, 40, 60))
    out = io.BytesIO()
    im.save(out, format=fmt, **save)
    return out.getvalue()


def upload(name, data, content_type="image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)
