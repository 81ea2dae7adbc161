"""Helpers of the citizen's hukou pages: who is how old, uploads, the URLs, the POST data of each section, the whole
eligible move as a citizen fills it in, and the offices those tests use."""

import datetime
import html
import io
import re
from html.parser import HTMLParser

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.models import Office
from hukou.constants import Category, Grounds, Relation
from hukou.models import MigrationApplication
from tests.factories import OfficeFactory, make_id_number


def born(years, days=0):
    """The date of birth of someone who is `years` old today, `days` before (+) or after (-) that birthday."""
    today = timezone.localdate()
    try:
        birthday = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        birthday = today.replace(year=today.year - years, day=28)
    return birthday - datetime.timedelta(days=days)


def id_of(years, days=0, sex=None):
    return make_id_number(birth=born(years, days), sex=sex)


def citizen_offices():
    """The move-in station (with its counter details), the municipal administration of Zhengzhou, the move-out station
    in Luoyang and Luoyang's administration, and a station in Kaifeng, a city with no household administration online."""
    zhengzhou = Office.objects.get(division_code="410100", kind=Office.Kind.CITY)
    luoyang = Office.objects.get(division_code="410300", kind=Office.Kind.CITY)
    kaifeng = Office.objects.get(division_code="410200", kind=Office.Kind.CITY)
    return {
        "move_in": OfficeFactory(
            name="金水路派出所",
            name_en="Jinshui Road Police Station",
            parent=zhengzhou,
            address="郑州市金水区金水路88号",
            opening_hours="Mon-Fri 9:00-17:00",
            phone="0371-12345678",
        ),
        "municipal": OfficeFactory(
            name="郑州市公安局户政管理处",
            name_en="Zhengzhou Household Administration",
            kind=Office.Kind.HOUSEHOLD_ADMIN,
            division_code="410100",
            parent=zhengzhou,
        ),
        "move_out": OfficeFactory(
            name="老城派出所", name_en="Laocheng Police Station", division_code="410302", parent=luoyang
        ),
        "luoyang_admin": OfficeFactory(
            name="洛阳市公安局户政管理处",
            name_en="Luoyang Household Administration",
            kind=Office.Kind.HOUSEHOLD_ADMIN,
            division_code="410300",
            parent=luoyang,
        ),
        # A station in a city with no household administration taking part online.
        "kaifeng": OfficeFactory(
            name="鼓楼派出所", name_en="Gulou Police Station", division_code="410204", parent=kaifeng
        ),
    }


def jpeg(text="ID", size=(640, 400)):
    image = Image.new("RGB", size, (232, 238, 248))
    ImageDraw.Draw(image).text((40, 40), text, fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, format="JPEG")
    return out.getvalue()


def upload(name, data=None, content_type="image/jpeg"):
    return SimpleUploadedFile(name, data if data is not None else jpeg(name), content_type=content_type)


class _Inline(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = 0
        self._script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.found += "style" in attrs or tag == "style"
        self._script = tag == "script" and "src" not in attrs

    def handle_data(self, data):
        self.found += bool(self._script and data.strip())

    def handle_endtag(self, tag):
        self._script = False


def assert_no_inline_code(response):
    parser = _Inline()
    parser.feed(response.content.decode())
    assert parser.found == 0


def url(name, application=None, section=None):
    if section:
        return reverse("hukou:section", kwargs={"case_number": application.case_number, "section": section})
    if application is not None:
        return reverse(f"hukou:{name}", kwargs={"case_number": application.case_number})
    return reverse(f"hukou:{name}")


def people(prefix, rows, initial=0):
    """The POST data of a formset of people: booleans as ticked checkboxes, None and False left out."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "20",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            if value is True:
                data[f"{prefix}-{i}-{key}"] = "on"
            elif value not in (False, None):
                data[f"{prefix}-{i}-{key}"] = value
    return data


def mover(name, number, relation=Relation.HEAD, *, applies=True, present=True, guardian=None):
    return {
        "name": name,
        "id_number": number,
        "relation": relation,
        "is_applicant": applies,
        "present": present,
        "guardian_present": bool(guardian),
        "guardian_name": guardian,
    }


def stayer(name, number="", relation=Relation.SPOUSE, *, birth_date=None, new_head=False):
    return {
        "name": name,
        "id_number": number,
        "birth_date": birth_date.isoformat() if birth_date else None,
        "relation": relation,
        "is_new_head": new_head,
    }


ZHENGZHOU_JINSHUI = ("410000", "410100", "410105")  # GB/T 2260: 河南省 郑州市 金水区
LUOYANG_LAOCHENG = ("410000", "410300", "410302")  # 河南省 洛阳市 老城区


def address_data(name, detail, divisions=ZHENGZHOU_JINSHUI, street=""):
    """The form data of an address field in parts (accounts.address): "" leaves every part but the province empty."""
    parts = (*divisions, street, detail) if detail else (divisions[0], "", "", "", "")
    names = ("province", "city", "district", "street", "detail")
    return {f"{name}_{part}": value for part, value in zip(names, parts, strict=True)}


def _address_parts(values, name, divisions):
    if f"{name}_detail" in values:  # given in parts
        values.pop(name, None)
    elif isinstance(values.get(name), str):
        values.update(address_data(name, values.pop(name), divisions))
    return values


def destination(offices, **overrides):
    values = {
        "category": Category.PART_HOUSEHOLD,
        "grounds": Grounds.EMPLOYMENT,
        "office": str(offices["move_in"].pk),
        "destination_address": "金水路2号",
        "receiving_present": "on",
    }
    values.update(overrides)
    _address_parts(values, "destination_address", ZHENGZHOU_JINSHUI)
    return {k: v for k, v in values.items() if v is not None}


def origin(offices, head_name, head_number, staying=(), **overrides):
    values = {
        "origin_address": "西大街1号",
        "origin_office": str(offices["move_out"].pk),
        "origin_head_name": head_name,
        "origin_head_id_number": head_number,
        **people("staying", list(staying)),
    }
    values.update(overrides)
    return _address_parts(values, "origin_address", LUOYANG_LAOCHENG)


def post(client, address, data=None, action="continue", **extra):
    return client.post(address, {**(data or {}), "action": action}, **extra)


def start(client, offices, category=Category.PART_HOUSEHOLD, grounds=Grounds.EMPLOYMENT):
    response = client.post(url("apply"), {"category": category, "grounds": grounds, "office": offices["move_in"].pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    return MigrationApplication.objects.latest("pk")


def fill_eligible(client, offices, applicant, *, documents=True):
    """A complete, eligible part-household move: the applicant (head) moves, the spouse stays and becomes head."""
    application = start(client, offices)
    assert post(client, url("", application, "destination"), destination(offices)).status_code == 302
    rows = [mover(applicant.real_name, applicant.id_number)]
    assert post(client, url("", application, "movers"), people("movers", rows)).status_code == 302
    staying = [stayer("李强", id_of(36, sex="M"), new_head=True)]
    response = post(
        client, url("", application, "origin"), origin(offices, applicant.real_name, applicant.id_number, staying)
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert post(client, url("", application, "authorisations")).status_code == 302
    if documents:
        files = {
            "id_card": upload("id-card.jpg"),
            "booklet": upload("booklet.jpg"),
            "evidence": upload("property.jpg"),
        }
        response = post(client, url("", application, "documents"), files)
        assert response.status_code == 302, response.content.decode()[:3000]
    application.refresh_from_db()
    return application


def submit(client, application):
    """Tick the declaration and submit; `application` is read again afterwards."""
    response = client.post(url("check", application), {"declaration": "on"})
    application.refresh_from_db()
    return response


def codes(response):
    return [item["code"] for item in response.context["problems"]]


def errors_of(response):
    """Every error message on the page's error summary, in order."""
    page = response.content.decode()
    match = re.search(r'data-testid="error-summary".*?</div>', page, re.S) or re.search(
        r'class="alert alert-danger portal-error-summary".*?</div>', page, re.S
    )
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0)))) if match else ""


def django_capture_on_commit():
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)
