"""The citizen account journey in a real browser: register, confirm e-mail and mobile from the outbox, log in, switch language.

The confirmation link and the SMS code are read from the outbox rows, as a developer reads them from the console.
Pages in Chinese are checked through element ids and the messages Django itself renders in Chinese, so the tests
hold whether or not the zh_Hans catalogue is compiled yet.
"""

import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from tests.e2e.conftest import horizontal_overflow, shot

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
PASSWORD = "Yellow-River-Ferry-1989"
# 李伟 in the synthetic identities (tests/data/make_identities.py); no other test registers this number.
PERSON_ID = "410102198906169082"


def person():
    from tests.factories import identities

    return next(p for p in identities()["valid"] if p["id_number"] == PERSON_ID)


def zh(message):
    """The text of `message` (lazy string or ValidationError) as the Chinese page renders it."""
    with translation.override("zh-hans"):
        return message.messages[0] if isinstance(message, ValidationError) else str(message)


def press(page, locator):
    """Click a submit button and wait until the next page has loaded, stylesheets included."""
    with page.expect_navigation(wait_until="load"):
        locator.click()


def follow(page, locator):
    with page.expect_navigation(wait_until="load"):
        locator.click()


def lang(page):
    return page.get_attribute("html", "lang")


def step(page, name):
    """A key step on the phone: nothing scrolls sideways, and a screenshot for the record."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, name
    assert horizontal_overflow(page) == 0, name
    shot(page, f"accounts-{name}")


def field_error(page, field):
    """The error crispy-forms writes under the field (not the summary at the top of the form)."""
    return page.locator(f"#div_id_{field} .invalid-feedback")


def outbox_body(user, *, channel, template):
    from portal.notify.models import OutboxMessage

    message = OutboxMessage.objects.filter(user=user, channel=channel, template=template).order_by("-pk").first()
    assert message is not None, f"no {channel} {template} in the outbox"
    return message.body


def language_switch(page):
    return page.get_by_test_id("language-switch")


def test_register_confirm_log_in_and_switch_language_on_a_phone(phone_page):
    from accounts.idnumber import parse
    from accounts.models import User

    page = phone_page
    who = person()
    local_mobile = who["mobile"].removeprefix("+86")  # as a citizen types it
    username = "liwei.zz"

    # Home, Chinese by default; Register through the visible control in the menu bar.
    page.goto("/")
    assert lang(page) == "zh-hans"
    step(page, "01-home-zh")
    register = page.locator(".portal-account a[href='/accounts/register/']")
    assert register.is_visible()
    follow(page, register)
    assert page.url.endswith("/accounts/register/")
    step(page, "02-register-empty")

    # A wrong check character first: the checksum message under the ID field, the other answers kept.
    wrong_id = PERSON_ID[:-1] + str((int(PERSON_ID[-1]) + 1) % 10)
    with pytest.raises(ValidationError) as wrong:
        parse(wrong_id)
    assert wrong.value.code == "checksum"
    page.fill("#id_real_name", who["name"])
    page.fill("#id_id_number", wrong_id)
    page.fill("#id_mobile", local_mobile)
    page.fill("#id_email", who["email"])
    page.fill("#id_username", username)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.check("#id_consent")
    press(page, page.locator("main form.portal-form button[type=submit]"))
    assert page.url.endswith("/accounts/register/")
    assert not User.objects.filter(username=username).exists()
    assert page.locator(".portal-error-summary").is_visible()
    error = field_error(page, "id_number")
    assert error.is_visible()
    assert error.inner_text().strip() == zh(wrong.value)
    assert "is-invalid" in page.get_attribute("#id_id_number", "class").split()
    # Only the ID number is at fault: no other field carries an error.
    assert page.locator("main .invalid-feedback").count() == 1
    assert page.input_value("#id_real_name") == who["name"]
    assert page.input_value("#id_id_number") == wrong_id
    assert page.input_value("#id_mobile") == local_mobile
    assert page.input_value("#id_email") == who["email"]
    assert page.input_value("#id_username") == username
    assert page.is_checked("#id_consent")
    assert page.input_value("#id_password1") == ""  # passwords are never written back into a page
    step(page, "03-register-id-checksum-error")

    page.fill("#id_id_number", PERSON_ID)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    press(page, page.locator("main form.portal-form button[type=submit]"))
    assert page.url.endswith("/accounts/welcome/")
    user = User.objects.get(username=username)
    assert (user.id_number, user.real_name, user.mobile, user.email) == (
        PERSON_ID,
        who["name"],
        who["mobile"],
        who["email"],
    )
    assert user.email_confirmed_at is None and user.mobile_confirmed_at is None
    assert page.get_by_text(who["email"]).is_visible()
    assert page.get_by_text(user.masked_mobile).is_visible()
    assert who["mobile"] not in page.content() and local_mobile not in page.content()  # the number is masked
    step(page, "04-welcome")

    # The e-mail: open the link, see the address, confirm with the button.
    body = outbox_body(user, channel="email", template="accounts/confirm_email")
    link = re.search(r"https?://\S+(/accounts/confirm-email/[^/\s]+/)", body)
    assert link, body
    page.goto(link.group(1))
    assert page.locator("main strong", has_text=who["email"]).is_visible()
    step(page, "05-confirm-email")
    press(page, page.locator("main form button[type=submit]"))
    assert page.locator("main .alert-success", has_text=who["email"]).is_visible()
    user.refresh_from_db()
    assert user.email_confirmed_at is not None and user.mobile_confirmed_at is None
    step(page, "06-email-confirmed")

    # The profile: e-mail confirmed, the mobile not yet; on to the code page.
    follow(page, page.locator("main a[href='/accounts/profile/']"))
    assert "text-bg-success" in page.get_by_test_id("email-state").get_attribute("class")
    assert "text-bg-warning" in page.get_by_test_id("mobile-state").get_attribute("class")
    follow(page, page.locator("main a[href='/accounts/confirm-mobile/']"))
    assert page.url.endswith("/accounts/confirm-mobile/")

    # The SMS: a wrong code first (the error under the field, the attempts left counted), then the right one.
    sms = outbox_body(user, channel="sms", template="accounts/mobile_code")
    code = re.search(r"\b(\d{6})\b", sms).group(1)
    wrong_code = f"{(int(code) + 1) % 10**6:06d}"
    page.fill("#id_code", wrong_code)
    press(page, page.locator("main form.portal-form button[type=submit]"))
    assert page.url.endswith("/accounts/confirm-mobile/")
    assert field_error(page, "code").is_visible()
    assert "4" in field_error(page, "code").inner_text()  # 5 tries per code, one used
    assert user.mobile_codes.get().attempts == 1
    user.refresh_from_db()
    assert user.mobile_confirmed_at is None
    step(page, "07-mobile-wrong-code")

    page.fill("#id_code", code)
    press(page, page.locator("main form.portal-form button[type=submit]"))
    assert page.url.endswith("/accounts/profile/")
    user.refresh_from_db()
    assert user.contact_confirmed
    assert "text-bg-success" in page.get_by_test_id("email-state").get_attribute("class")
    assert "text-bg-success" in page.get_by_test_id("mobile-state").get_attribute("class")
    assert page.locator("main .alert-warning").count() == 0  # no "confirm before you apply" warning left
    step(page, "08-profile-confirmed")

    # Log out (a POST form in the menu bar), then log in again with the username and the password.
    press(page, page.locator(".portal-logout button[type=submit]"))
    assert page.locator(".portal-account a[href='/accounts/login/']").is_visible()
    assert page.locator(".portal-logout").count() == 0
    step(page, "09-logged-out")
    follow(page, page.locator(".portal-account a[href='/accounts/login/']"))
    page.fill("#id_username", username.upper())  # any letter case
    page.fill("#id_password", PASSWORD)
    step(page, "10-login")
    press(page, page.locator("main form.portal-form button[type=submit]"))
    assert page.url.endswith("/me/")
    assert page.locator(".portal-account-name").is_visible()
    step(page, "11-logged-in")

    # English with the on-page switch, on the profile; then back to Chinese, on the same page.
    follow(page, page.locator(".portal-account-name"))
    assert lang(page) == "zh-hans"
    press(page, language_switch(page))
    assert lang(page) == "en"
    assert page.url.endswith("/accounts/profile/")
    assert page.get_by_role("heading", name="Your profile", exact=True).is_visible()
    assert page.get_by_role("heading", name="Contact details", exact=True).is_visible()
    assert page.get_by_test_id("mobile-state").inner_text() == "confirmed"
    assert page.get_by_role("button", name="Log out").is_visible()
    assert language_switch(page).inner_text() == "简体中文"
    step(page, "12-profile-en")
    press(page, language_switch(page))
    assert lang(page) == "zh-hans"
    assert page.url.endswith("/accounts/profile/")
    assert language_switch(page).inner_text() == "English"
    step(page, "13-profile-zh")
    assert page.console_errors == []  # no CSP violation, no script error


def test_login_and_language_switch_without_javascript(new_page):
    from tests.factories import UserFactory

    user = UserFactory(username="nojs.citizen", real_name="王小明")
    page = new_page(java_script_enabled=False, **PHONE)
    page.goto("/accounts/login/")
    assert lang(page) == "zh-hans"

    press(page, language_switch(page))
    assert lang(page) == "en"
    assert page.url.endswith("/accounts/login/")
    assert page.get_by_role("heading", name="Log in", exact=True).is_visible()
    page.get_by_label("Username").fill("nojs.citizen")
    page.get_by_label("Password").fill("Correct-Horse-42")
    step(page, "nojs-01-login-en")
    press(page, page.get_by_role("button", name="Log in", exact=True))
    assert page.url.endswith("/me/")
    assert page.get_by_role("heading", name="My applications", exact=True).is_visible()
    assert page.locator(".portal-account-name").inner_text().endswith(user.masked_name)
    step(page, "nojs-02-me-en")

    press(page, language_switch(page))
    assert lang(page) == "zh-hans"
    assert page.url.endswith("/me/")
    assert page.locator(".portal-account-name").is_visible()  # still logged in
    step(page, "nojs-03-me-zh")

    press(page, page.locator(".portal-logout button[type=submit]"))
    assert page.locator(".portal-account a[href='/accounts/login/']").is_visible()
    assert lang(page) == "zh-hans"


def test_suspended_account_cannot_log_in(phone_page):
    from accounts.forms import LoginForm
    from tests.factories import UserFactory

    UserFactory(username="held.citizen", suspended=True)
    page = phone_page
    page.goto("/accounts/login/")
    submit = page.locator("main form.portal-form button[type=submit]")

    # A wrong password gets the ordinary answer: the suspension is told only to whoever knows the password.
    page.fill("#id_username", "held.citizen")
    page.fill("#id_password", "not-the-password")
    press(page, submit)
    summary = page.locator(".portal-error-summary")
    assert summary.is_visible()
    assert zh(LoginForm.error_messages["invalid_login"]) in summary.inner_text()
    assert zh(LoginForm.error_messages["suspended"]) not in summary.inner_text()

    page.fill("#id_password", "Correct-Horse-42")
    press(page, submit)
    assert page.url.endswith("/accounts/login/")
    suspended = zh(LoginForm.error_messages["suspended"])
    assert suspended in page.locator(".portal-error-summary").inner_text()
    # Shown once: crispy-forms' own copy of the non-field error inside the form stays hidden under the summary.
    assert page.locator("main li:visible", has_text=suspended).count() == 1
    assert page.locator(".portal-account-name").count() == 0  # not logged in
    step(page, "suspended-login-zh")

    press(page, language_switch(page))
    page.fill("#id_username", "held.citizen")
    page.fill("#id_password", "Correct-Horse-42")
    press(page, page.get_by_role("button", name="Log in", exact=True))
    assert "This account is suspended." in page.locator(".portal-error-summary").inner_text()
    step(page, "suspended-login-en")
    page.goto("/accounts/profile/")
    assert "/accounts/login/" in page.url  # no session was made
