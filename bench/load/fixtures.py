"""The data the load scenario starts from, made through the portal's own services (run by bench/load/run.py).

- Five police stations, each with two officers who sign in with a password and a TOTP device (real MFA).
- Issued certificates for the verifiers: citizens' applications submitted, accepted and approved through
  certificates.services, the certificates rendered, signed and stored by the running Celery worker; two of them
  revoked again, so verifiers also meet a revoked certificate.

Returns what locustfile.py needs (written to a JSON file the run hands it): stations, staff credentials and TOTP
keys, and the codes. Only for the throw-away load database.
"""

import io
import random
import secrets
import time
from datetime import date, timedelta

from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image, ImageDraw
from stdnum.cn import ric

from accounts.identity import identity_verify_at_counter
from accounts.models import IdentityCheck, Office, Role, User
from certificates import services
from certificates.models import Application, Delivery, Reason, Status
from portal.documents.services import ID_DOCUMENT_RULES, PHOTO_RULES, document_attach, document_create
from portal.verify.models import DocumentStatus, IssuedDocument

# (city division code, station name, English name, county code)
STATIONS = [
    ("410100", "经八路派出所（压测）", "Jingba Road Police Station (load test)", "410105"),
    ("410100", "大学路派出所（压测）", "Daxue Road Police Station (load test)", "410103"),
    ("410300", "西关派出所（压测）", "Xiguan Police Station (load test)", "410302"),
    ("410200", "鼓楼派出所（压测）", "Gulou Police Station (load test)", "410204"),
    ("411300", "卧龙派出所（压测）", "Wolong Police Station (load test)", "411303"),
]
OFFICERS_PER_STATION = 2
OFFICER_NAMES = "李警官 赵警官 孙警官 周警官 吴警官 郑警官 冯警官 陈警官 褚警官 卫警官".split()


def _image(size, colour) -> bytes:
    image = Image.new("RGB", size, colour)
    ImageDraw.Draw(image).ellipse(
        (size[0] // 4, size[1] // 5, 3 * size[0] // 4, 3 * size[1] // 5), fill=(236, 196, 164)
    )
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def _id_number(rng, used) -> str:
    while True:
        birth = date(1965, 1, 1) + timedelta(days=rng.randrange(0, 35 * 365))
        body = f"410105{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
        number = body + ric.calc_check_digit(body + "0")
        if number not in used:
            used.add(number)
            return number


def make_stations_and_staff(run_id: str) -> tuple[list[Office], list[dict]]:
    cities = {o.division_code: o for o in Office.objects.filter(kind=Office.Kind.CITY)}
    group = Group.objects.get(name=Role.POLICE_OFFICER)
    stations, staff = [], []
    for index, (city, name, name_en, county) in enumerate(STATIONS):
        station = Office.objects.create(
            kind=Office.Kind.POLICE_STATION,
            name=name,
            name_en=name_en,
            division_code=county,
            parent=cities[city],
            address=f"河南省{county}某某路{index + 1}号",
            phone="0371-00000000",
            accepts_paper_collection=True,
        )
        stations.append(station)
        for n in range(OFFICERS_PER_STATION):
            number = index * OFFICERS_PER_STATION + n
            password = f"Officer-{secrets.token_urlsafe(12)}"
            user = User(
                username=f"officer{run_id}-{number:02d}",
                real_name=OFFICER_NAMES[number % len(OFFICER_NAMES)],
                email=f"officer{run_id}-{number:02d}@police.example.test",
                office=station,
                is_staff=True,
            )
            user.set_password(password)
            user.save()
            user.groups.add(group)
            device = TOTPDevice.objects.create(user=user, name="load test authenticator", confirmed=True)
            staff.append(
                {"username": user.username, "password": password, "totp_key": device.key, "office": station.pk}
            )
    return stations, staff


def _seed_application(station, officer, rng, used, run_id, n) -> Application:
    now = timezone.now()
    citizen = User.objects.create(
        username=f"seed{run_id}-{n:03d}",
        real_name=rng.choice("王李张刘陈杨黄赵") + rng.choice(("芳", "伟", "秀英", "建国", "丽")),
        id_number=_id_number(rng, used),
        mobile=f"+86137{n:08d}",
        email=f"seed{run_id}-{n:03d}@example.test",
        email_confirmed_at=now,
        mobile_confirmed_at=now,
        data_consent_at=now,
    )
    citizen.set_unusable_password()  # never signs in: only its certificate is needed
    citizen.save(update_fields=["password"])
    # Certificates need a verified identity: the station officer saw the card (the counter check of the service).
    identity_verify_at_counter(
        user=citizen,
        officer=officer,
        document_type=IdentityCheck.Document.RESIDENT_ID,
        document_number=citizen.id_number,
    )
    application = services.application_create_draft(applicant=citizen, for_self=True, office=station)
    with transaction.atomic():
        Application.objects.filter(pk=application.pk).update(
            reason=Reason.EMPLOYMENT,
            receiving_organisation="郑州某某科技有限公司",
            delivery=Delivery.ELECTRONIC,
            declaration_at=now,
        )
        for kind, size in (("id_front", (856, 540)), ("id_back", (856, 540)), ("photo", (413, 531))):
            upload = SimpleUploadedFile(f"{kind}.jpg", _image(size, (67, 142, 219)), content_type="image/jpeg")
            rules = PHOTO_RULES if kind == "photo" else ID_DOCUMENT_RULES
            document = document_create(owner=citizen, uploaded_file=upload, kind=kind, rules=rules)
            document_attach(document=document, case=application)
    application.refresh_from_db()
    services.application_submit(application=application, by=citizen)
    services.application_accept(application=application, by=officer)
    services.application_approve(application=application, by=officer, note="load test seed")
    return application


def seed_certificates(stations, count: int, run_id: str, revoke: int = 2, timeout: float = 180.0) -> dict:
    """`count` certificates issued by the worker (which must be running); `revoke` of them revoked again."""
    rng = random.Random(run_id)
    used = set(User.objects.exclude(id_number=None).values_list("id_number", flat=True))
    officers = {s.pk: User.objects.filter(office=s, is_staff=True).order_by("pk").first() for s in stations}
    applications = [
        _seed_application(stations[n % len(stations)], officers[stations[n % len(stations)].pk], rng, used, run_id, n)
        for n in range(count)
    ]
    pks = [a.pk for a in applications]
    deadline = time.monotonic() + timeout
    while Application.objects.filter(pk__in=pks, status=Status.ISSUED).count() < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"the worker did not issue the {count} seed certificates within {timeout:.0f} s")
        time.sleep(0.5)
    codes = {"valid": [], "revoked": []}
    for index, application in enumerate(Application.objects.filter(pk__in=pks).select_related("office")):
        document = services.current_certificate(application=application)
        if index < revoke:
            officer = officers[application.office_id]
            services.certificate_revoke(
                application=application,
                by=officer,
                reason="load test: revoked on purpose",
                public_reason="撤销（负载测试）",
            )
            codes["revoked"].append(document.code)
        else:
            assert document.status == DocumentStatus.VALID, document.status
            codes["valid"].append(document.code)
    assert IssuedDocument.objects.filter(code__in=codes["valid"], status=DocumentStatus.VALID).count() == len(
        codes["valid"]
    )
    return codes
