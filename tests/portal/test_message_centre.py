"""The message centre: every e-mail and SMS sent to a user, mirrored from the outbox, private to them, with an unread
count in the header and mark-as-read when opened; codes and one-time links are never mirrored."""

import re

import pytest
from django.urls import reverse

from accounts import services as account_services
from portal.notify import inbox
from portal.notify.models import Channel, OutboxMessage
from portal.notify.services import notify_user, queue_message
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def unread_badge(html):
    found = re.search(r'data-testid="unread-count">(\d+)<', html)
    return int(found.group(1)) if found else 0


@pytest.fixture
def person(db):
    return UserFactory(language="en", email="wang.fang@example.test", mobile="+8613812345679")


def suspended_notice(user):
    """A real notification of the accounts service: one e-mail."""
    return notify_user(user, template="accounts/identity_superseded", context={}, sms=False)


def an_sms(user, body="Your hukou move HK-20261207-7KQ2-M9XD was accepted."):
    return queue_message(channel=Channel.SMS, to=user.mobile, body=body, user=user, template="hukou/accepted")


def test_the_header_counts_unread_messages_and_opening_one_marks_it_read(client, person):
    client.cookies["portal_language"] = "en"
    (email,) = suspended_notice(person)
    sms = an_sms(person)
    client.force_login(person)

    html = client.get(reverse("home")).content.decode()
    assert unread_badge(html) == 2
    listing = client.get(reverse("notify:list")).content.decode()
    assert email.subject in listing and "Your hukou move HK-20261207-7KQ2-M9XD" in listing
    assert listing.count('data-read="no"') == 2

    page = client.get(reverse("notify:detail", args=[sms.pk])).content.decode()
    assert "Your hukou move HK-20261207-7KQ2-M9XD was accepted." in page
    assert "138****5679" in page and "+8613812345679" not in page  # the number masked, as everywhere
    assert unread_badge(page) == 1
    sms.refresh_from_db()
    assert sms.read_at is not None
    first_read = sms.read_at
    client.get(reverse("notify:detail", args=[sms.pk]))
    sms.refresh_from_db()
    assert sms.read_at == first_read  # opening it again changes nothing

    response = client.post(reverse("notify:read_all"), follow=True)
    assert "All messages are marked as read." in response.content.decode()
    assert unread_badge(response.content.decode()) == 0
    assert inbox.unread_count(person) == 0


def test_a_message_is_private_to_its_user(client, person):
    other = UserFactory()
    (theirs,) = suspended_notice(other)
    an_sms(person)
    client.force_login(person)
    assert client.get(reverse("notify:detail", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None  # looking for it did not mark it read
    assert theirs.subject not in client.get(reverse("notify:list")).content.decode()
    # Marking all read touches only the user's own messages.
    client.post(reverse("notify:read_all"))
    assert inbox.unread_count(other) == 1


def test_codes_and_one_time_links_are_never_mirrored(client, person):
    person.email_confirmed_at = None
    person.save(update_fields=["email_confirmed_at"])
    account_services.email_confirmation_send(user=person)
    account_services.mobile_code_send(user=person)
    account_services.password_reset_send(user=person)
    sent = OutboxMessage.objects.filter(user=person)
    assert sent.count() == 3 and all(m.secret for m in sent)
    client.force_login(person)
    html = client.get(reverse("notify:list")).content.decode()
    assert 'data-testid="no-messages"' in html
    assert unread_badge(html) == 0
    for message in sent:
        assert client.get(reverse("notify:detail", args=[message.pk])).status_code == 404


def test_the_message_centre_needs_an_account(client):
    response = client.get(reverse("notify:list"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    assert client.post(reverse("notify:read_all")).status_code == 302


def test_the_count_costs_one_query_and_only_where_it_is_shown(client, person, django_assert_num_queries):
    an_sms(person)
    client.force_login(person)
    client.get(reverse("home"))  # warm the session and the registry
    with django_assert_num_queries(3):  # the session, the user, the unread count
        html = client.get(reverse("home")).content.decode()
    assert unread_badge(html) == 1


def test_the_data_export_withholds_a_secret_message_and_says_when_one_was_read(person):
    code = queue_message(
        channel=Channel.SMS, to=person.mobile, body="Code 483920", user=person, template="hukou/visit_code", secret=True
    )
    news = an_sms(person)
    inbox.open_message(person, news.pk)
    exported = {m["text"]: m for m in account_services.user_export_data(user=person)["messages"]}
    assert "Code 483920" not in exported and code.body not in str(exported)
    assert exported["[withheld: it contained a one-time link or code]"]["read_on_the_portal"] is None
    assert exported[news.body]["read_on_the_portal"] is not None
