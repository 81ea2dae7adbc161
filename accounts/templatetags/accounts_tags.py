"""Small template filters for the account pages."""

from django import template

register = template.Library()


@register.filter
def minutes(value):
    """A timedelta (or seconds) as whole minutes, rounded up, for 'try again in N minutes'."""
    seconds = value.total_seconds() if hasattr(value, "total_seconds") else float(value or 0)
    return max(int(-(-seconds // 60)), 1)
