"""The load test's officers read the review page and the confirmation page as a browser does (bench/load/review_form):
the parser on a hand-written form, then the real pages of a submitted application taken through accept and approve."""

import pytest
from django.urls import reverse
from django.utils import translation

from bench.load import review_form
from certificates.models import Application, Status
from tests.factories import ApplicationFactory

FORMS = """
<form method="post" action="/admin/logout/"><input type="hidden" name="csrfmiddlewaretoken" value="t0"></form>
<form method="post" action="/admin/x/application/7/act/approve/?_changelist_filters=status%3Daccepted"
      data-testid="ncr-action-approve"><input type="hidden" name="csrfmiddlewaretoken" value="t1">
  <input type="hidden" name="seen_status" value="accepted">
  <label><input type="checkbox" name="check" value="register_checked" required> A</label>
  <label><input type="checkbox" name="check" value="optional"> B</label>
  <label><input type="checkbox" name="check" value="kept" checked> C</label>
  <textarea name="internal_note" rows="2">
a &amp; b</textarea>
  <input type="text" name="reason" value="" required><input type="submit" value="Approve …">
</form>
<form method="post" action="/admin/x/application/7/act/refuse/" data-testid="ncr-action-refuse"></form>
"""


def test_a_step_form_gives_its_fields_and_ticks_the_required_items():
    form = review_form.step_form(FORMS, ("accept", "approve"))
    assert form.step == "approve" and form.testid == "ncr-action-approve"
    assert form.data() == [
        ("csrfmiddlewaretoken", "t1"),
        ("seen_status", "accepted"),
        ("internal_note", "a & b"),
        ("reason", ""),
        ("check", "register_checked"),
        ("check", "kept"),
    ]
    assert ("check", "optional") in form.data(tick_optional=True)
    assert form.required_empty == ["reason"]
    assert review_form.step_form(FORMS, ("accept",)) is None
    assert review_form.confirmation_form(FORMS) is None


def test_errors_of_a_step_page():
    html = '<ul class="errorlist"><li>Tick “A” <b>first</b>.</li>\n<li>Fill in “B”.</li></ul>'
    assert review_form.errors(html) == ["Tick “A” first.", "Fill in “B”."]


def as_posted(pairs):
    """requests posts a list of pairs; Django's test client wants each name's values in a list."""
    data = {}
    for name, value in pairs:
        data.setdefault(name, []).append(value)
    return data


@pytest.mark.django_db
def test_an_officer_accepts_and_approves_through_the_pages_read_as_the_load_test_does(
    staff_client, station_a, officer_a, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    application = ApplicationFactory(office=station_a)
    client = staff_client(officer_a)
    change = reverse("admin:certificates_application_change", args=[application.pk])
    with translation.override("en"):
        accept = review_form.step_form(client.get(change).content.decode(), ("accept", "approve"))
        assert accept.step == "accept" and ("check", "id_matches") in accept.data()
        without_the_check = [item for item in accept.data() if item[0] != "check"]
        refused = client.post(accept.action, as_posted(without_the_check))
        assert refused.status_code == 400 and review_form.errors(refused.content.decode())
        assert client.post(accept.action, as_posted(accept.data())).status_code == 302

        approve = review_form.step_form(client.get(change).content.decode(), ("accept", "approve"))
        assert approve.step == "approve"
        page = client.post(approve.action, as_posted(approve.data()))
        assert page.status_code == 200
        assert Application.objects.get(pk=application.pk).status == Status.ACCEPTED  # not before the confirmation
        confirm = review_form.confirmation_form(page.content.decode())
        assert ("confirm_token", page.context["token"]) in confirm.data()
        assert client.post(confirm.action, as_posted(confirm.data())).status_code == 302
    assert Application.objects.get(pk=application.pk).status == Status.APPROVED
