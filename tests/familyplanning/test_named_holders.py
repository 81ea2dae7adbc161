"""Nothing typed twice: the online form starts with the applicant's own data, and a spouse named by ID number on a
couple's application finds its document in their own wallet on /me/ (familyplanning.services.documents_naming)."""

import pytest
from django.urls import reverse

from accounts.models import Assurance
from familyplanning.models import NamedPerson
from tests.factories import UserFactory, make_id_number
from tests.familyplanning.pages import apply_online, browser, decide, html

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("documents_environment")]


def couple():
    husband = UserFactory(real_name="李建国", id_number=make_id_number(sex="M"))
    wife = UserFactory(real_name="陈静", id_number=make_id_number(sex="F"))
    return husband, wife


def test_the_wife_named_on_the_birth_service_certificate_finds_it_in_her_wallet(client, office, officer):
    husband, wife = couple()
    application = apply_online(
        browser(client, husband),
        "birth_registration",
        office,
        husband_name=husband.real_name,
        husband_id_number=husband.id_number,
        wife_name=wife.real_name,
        wife_id_number=wife.id_number,
    )
    assert dict(NamedPerson.objects.filter(application=application).values_list("role", "id_number")) == {
        "husband": husband.id_number,
        "wife": wife.id_number,
    }
    document = decide(application, officer)
    assert document.holder_id == husband.pk  # delivered through the account that applied

    wife_client = browser(client.__class__(), wife)
    wallet = html(wife_client.get(reverse("me")))
    assert f'data-issued="{document.code}"' in wallet
    download = wife_client.get(reverse("verify:download", args=[document.code]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    # Share codes stay with the account the document was issued to.
    assert f'<option value="{document.code}"' not in wallet

    # An account that only typed her number at registration (not verified) sees nothing of it.
    wife.assurance_level = Assurance.DECLARED
    wife.save(update_fields=["assurance_level"])
    assert f'data-issued="{document.code}"' not in html(wife_client.get(reverse("me")))
    assert wife_client.get(reverse("verify:download", args=[document.code])).status_code == 404
    # Nor does anyone else.
    stranger = browser(client.__class__(), UserFactory())
    assert f'data-issued="{document.code}"' not in html(stranger.get(reverse("me")))


def test_changing_a_draft_changes_who_is_named(client, office):
    husband, wife = couple()
    other = UserFactory(id_number=make_id_number(sex="F"))
    signed_in = browser(client, husband)
    from tests.familyplanning.pages import form_data, url

    data = {
        **form_data("birth_registration", wife_name=wife.real_name, wife_id_number=wife.id_number),
        "office": office.pk,
        "action": "draft",
    }
    response = signed_in.post(url("apply", "birth_registration"), data)
    assert response.status_code == 302
    named = NamedPerson.objects.get(role="wife")
    assert named.id_number == wife.id_number
    number = named.application.case_number
    data.update(wife_id_number=other.id_number)
    assert signed_in.post(url("edit", number), data).status_code == 302
    assert list(NamedPerson.objects.filter(role="wife").values_list("id_number", flat=True)) == [other.id_number]
