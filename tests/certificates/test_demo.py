"""`manage.py load_demo` issues the demo citizen's valid, revoked and expired certificates, signed B-LTA, and
`--print-only` prints their codes."""

import io
import re

import pytest
from django.core.management import call_command

from portal import pdf
from portal.documents.storage import private_storage
from portal.verify.lookup import document_state
from portal.verify.models import IssuedDocument

pytestmark = pytest.mark.django_db


def test_load_demo_issues_and_prints_three_certificates(settings, lta_signing, tmp_path):
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_demo", stdout=io.StringIO())
    call_command("load_demo", stdout=io.StringIO())  # idempotent: nothing issued twice
    out = io.StringIO()
    call_command("load_demo", print_only=True, stdout=out)
    codes = dict(re.findall(r"^(valid|revoked|expired) certificate: (\S+)$", out.getvalue(), re.M))
    assert set(codes) == {"valid", "revoked", "expired"}, out.getvalue()
    assert IssuedDocument.objects.count() == 3
    for state, code in codes.items():
        document = IssuedDocument.objects.get(code=code)
        assert document_state(document) == state
        with private_storage.open(document.file.name) as fh:
            check = pdf.check_signature(fh.read())
        assert check.ok and check.long_term, (state, check.error)
