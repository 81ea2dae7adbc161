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
