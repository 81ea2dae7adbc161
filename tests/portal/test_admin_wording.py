"""Admin wording (issue 15, item 8): every admin string in both languages, captions and filter values included, the
greeting with the staff member's real name, and English dates as "7 December 2026"."""

import datetime
import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import formats, timezone, translation

from certificates.models import Application
from certificates.models import Status as NcrStatus
from portal.verify.codes import new_code
from portal.verify.models import DocumentStatus, IssuedDocument
from tests.factories import ApplicationFactory, StaffFactory, attach_documents

pytestmark = pytest.mark.django_db


def test_english_dates_read_day_month_year():
    day = datetime.date(2026, 12, 7)
    with translation.override("en"):
        assert formats.date_format(day) == "7 December 2026"
        assert formats.date_format(datetime.datetime(2026, 12, 7, 9, 5), "DATETIME_FORMAT") == "7 December 2026, 09:05"
    with translation.override("zh-hans"):
        assert formats.date_format(day) == "2026年12月7日"


def test_the_admin_greets_staff_by_name_and_its_table_captions_are_chinese(staff_client, station_a):
    officer = StaffFactory(office=station_a, real_name="王警官", username="officer_zz")
    page = staff_client(officer).get(reverse("admin:index")).content.decode()
    assert re.search(r"欢迎，\s*<strong>王警官</strong>", page)
    assert "OFFICER_ZZ" not in page.upper().split("<STRONG>")[1].split("</STRONG>")[0]
    for english in ("Model name", "Add link", "Change or view list link"):
        assert english not in page
    assert "模型名称" in page


def test_the_queue_title_names_the_cases_rather_than_select_to_change(staff_client, officer_a):
    page = staff_client(officer_a).get(reverse("admin:certificates_application_changelist")).content.decode()
    assert "选择" not in page.split("<title>")[1].split("</title>")[0]


def test_issued_document_types_are_named_not_raw_keys(staff_client, station_a, client, settings):
    administrator = StaffFactory(office=None, role="administrator", is_superuser=True)
    application = ApplicationFactory(office=station_a, status=NcrStatus.ISSUED)
    IssuedDocument.objects.create(
        code=new_code(),
        kind="ncr_certificate",
        title="无犯罪记录证明",
        title_en="Certificate of No Criminal Record",
        source_type=ContentType.objects.get_for_model(Application),
        source_id=application.pk,
        generation=1,
        holder=application.applicant,
        holder_name=application.holder_name,
        issuing_office=station_a,
        issued_at=timezone.now(),
        valid_until=timezone.localdate() + datetime.timedelta(days=90),
        status=DocumentStatus.VALID,
        file="issued/x.pdf",
        sha256="1" * 64,
        size=2048,
    )
    admin = staff_client(administrator)
    url = reverse("admin:verify_issueddocument_changelist")
    page = admin.get(url).content.decode()
    filter_block = page.split('id="changelist-filter"')[1]
    assert "无犯罪记录证明" in filter_block and ">ncr_certificate<" not in filter_block
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = admin.get(url).content.decode()
    assert "Certificate of No Criminal Record" in page.split('id="changelist-filter"')[1]


def test_document_images_have_their_name_as_alt_text(staff_client, station_a, officer_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    application = ApplicationFactory(office=station_a)
    attach_documents(application)
    page = staff_client(officer_a).get(reverse("admin:certificates_application_change", args=[application.pk]))
    html = page.content.decode()
    assert 'alt="id_front"' not in html and 'alt="photo"' not in html
