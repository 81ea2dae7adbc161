"""Helpers shared by the browser tests: Pillow-made ID card sides and portrait, a task run as a worker would, failed
responses, an issued certificate, and the accessibility checks' password, phone and languages."""

import concurrent.futures

from django.utils import timezone
from PIL import Image, ImageDraw

PASSWORD = "Correct-Horse-42"  # tests.factories.UserFactory's password
LANGUAGES = ("zh-hans", "en")
# The accessibility checks' phone at 1x: the screenshots stay small and quick; layout and axe see the same 360 CSS px.
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}


def _save(image, path, fmt):
    image.save(path, format=fmt)
    return path


def id_card(path, *, back=False):
    """A readable stand-in for an ID card side: JPEG, card proportions, with text and a photo box."""
    image = Image.new("RGB", (856, 540), (232, 238, 248))
    draw = ImageDraw.Draw(image)
    if back:
        draw.ellipse((60, 60, 220, 220), outline=(190, 30, 30), width=8)
        draw.text((300, 120), "PEOPLE'S REPUBLIC OF CHINA - RESIDENT IDENTITY CARD", fill=(20, 20, 20))
    else:
        draw.rectangle((560, 80, 800, 380), fill=(200, 170, 150))
        draw.text((60, 100), "NAME / SEX / BORN / ADDRESS", fill=(20, 20, 20))
    return _save(image, path, "JPEG")


def portrait(path):
    """A colour portrait at least 358 x 441: blue background, skin-coloured face, dark jacket."""
    width, height = 413, 531
    image = Image.new("RGB", (width, height), (70, 130, 200))
    draw = ImageDraw.Draw(image)
    draw.ellipse((width * 0.3, height * 0.12, width * 0.7, height * 0.58), fill=(225, 180, 150))
    draw.rectangle((width * 0.12, height * 0.64, width * 0.88, height), fill=(40, 40, 60))
    return _save(image, path, "PNG")


def run_in_worker_thread(task, *args):
    """Call a task the way a worker process would: in a thread of its own, with its own database connection.

    Not in the test's thread: Playwright's sync API keeps an asyncio loop running there, and pyHanko's
    signer starts one of its own (asyncio.run), which Python refuses inside a running loop.
    """
    from django.db import connections

    def work():
        try:
            return task(*args)
        finally:
            connections.close_all()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result(timeout=60)


def failed_responses(page):
    """Record every response of `page` with an error status (the admin has no favicon: that one is ignored)."""
    failed = []
    page.on(
        "response",
        lambda r: (
            failed.append(f"{r.status} {r.url}") if r.status >= 400 and not r.url.endswith("/favicon.ico") else None
        ),
    )
    return failed


def issued_certificate(station, applicant=None):
    """A certificate really rendered, signed and stored by the worker task; returns (application, document)."""
    from certificates import tasks
    from certificates.models import Status
    from certificates.services import current_certificate
    from tests.factories import ApplicationFactory

    holder = {"applicant": applicant} if applicant is not None else {}  # else a new citizen who reads English
    application = ApplicationFactory(
        office=station,
        status=Status.APPROVED,
        certificate_generation=1,
        decided_at=timezone.now(),
        register_checked_at=timezone.now(),
        **holder,
    )
    assert run_in_worker_thread(tasks.generate_certificate, application.pk, 1) == "issued"
    application.refresh_from_db()
    return application, current_certificate(application=application)


def take_step(page, form, press, before_confirm=None):
    """Take a step from its form on a review page as an officer does: tick the checklist's required items, press the
    button and, for an irreversible step, confirm on the confirmation page (portal.cases.review), after
    `before_confirm(page)` if given. `press` clicks and waits for the next page. Returns whether a confirmation was
    asked for."""
    for box in form.locator("input[type=checkbox][name=check][required]").all():
        box.check()
    press(page, form.locator("input[type=submit]"))
    confirmation = page.get_by_test_id("step-confirmation")
    if confirmation.count() == 0:
        return False
    if before_confirm is not None:
        before_confirm(page)
    press(page, page.get_by_test_id("confirm-submit"))
    return True


def fill_address(page, name, city, district, detail, *, street="", province="410000"):
    """Fill an address in parts (accounts.address) with JavaScript on: the city and district lists follow the choices
    (select_option waits for the options the script fetches)."""
    page.select_option(f"#id_{name}_province", province)
    page.select_option(f"#id_{name}_city", city)
    page.select_option(f"#id_{name}_district", district)
    page.fill(f"#id_{name}_street", street)
    page.fill(f"#id_{name}_detail", detail)


def hukou_draft(settings, tmp_path, *, category="part_household", grounds="employment", birth=None):
    """A hukou draft of 王芳's to 经八路派出所 in Zhengzhou (with the city's household administration), uploads in
    tmp_path: (citizen, application)."""
    from accounts.models import Office
    from hukou import drafts
    from tests.factories import OfficeFactory, UserFactory, make_id_number

    settings.MEDIA_ROOT = tmp_path / "media"
    zhengzhou = Office.objects.get(division_code="410100", kind=Office.Kind.CITY)
    move_in = OfficeFactory(name="经八路派出所", name_en="Jingba Road Police Station", parent=zhengzhou)
    OfficeFactory(
        name="郑州市公安局户政管理处", kind=Office.Kind.HOUSEHOLD_ADMIN, division_code="410100", parent=zhengzhou
    )
    citizen = UserFactory(real_name="王芳", id_number=make_id_number(sex="F", **({"birth": birth} if birth else {})))
    application = drafts.hukou_create_draft(applicant=citizen, category=category, grounds=grounds, office=move_in)
    return citizen, application
