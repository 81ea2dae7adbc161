"""Small template filters for the account pages."""

from django import template

register = template.Library()


@register.filter
def minutes(value):
    """A timedelta (or seconds) as whole minutes, rounded up, for 'try again in N minutes'."""
    seconds = value.total_seconds() if hasattr(value, "total_seconds") else float(value or 0)
    return max(int(-(-seconds // 60)), 1)


@register.filter
def id_number_notice(number: str | None) -> str:
    """For staff pages: the notice about an unknown county code in a resident ID number, or "" (accounts.idnumber)."""
    from accounts.idnumber import county_code_notice

    return county_code_notice(number, for_staff=True)


@register.inclusion_tag("accounts/_assurance_needed.html")
def assurance_needed(user, service, kind=""):
    """On a check-answers page: what the citizen must do when their identity is below the level the service needs."""
    from accounts.identity import how_to_reach, level_label, meets
    from portal import registry

    needed = registry.required_assurance(service, kind)
    if not getattr(user, "is_authenticated", False) or meets(user, needed):
        return {"below": False}
    return {
        "below": True,
        "needed": level_label(needed),
        "current": level_label(user.assurance_level),
        "how": how_to_reach(needed),
    }


@register.filter
def mobile(value: str | None) -> str:
    """A stored (E.164) mobile number for reading: 138 1234 5679 (accounts.phone.display_mobile)."""
    from accounts.phone import display_mobile

    return display_mobile(value or "")
