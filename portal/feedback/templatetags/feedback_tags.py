"""The rating block of every service's case page and /me/'s list of cases to rate (一事一评), as template tags, so
that neither the services nor portal.views import portal.feedback: a page includes feedback/_rate_case.html or
feedback/_to_rate.html with one line."""

from django import template

from .. import cases, services

register = template.Library()


@register.inclusion_tag("feedback/_rate_case_box.html", takes_context=True)
def rate_case(context, case):
    """For the applicant's page of `case`: its rating once given, or the link to rate it once decided."""
    request = context.get("request")
    user = getattr(request, "user", None)
    ref = cases.of_case(case)
    own = user is not None and user.is_authenticated and not user.is_staff and case.applicant_id == user.pk
    # An undecided case costs no query: it has no rating yet and cannot be rated.
    rating = services.rating_of(ref) if own and cases.is_decided(ref) else None
    return {
        "ref": ref,
        "rating": rating,
        "reasons": services.reason_labels(rating.reasons) if rating else [],
        "can_rate": own and rating is None and cases.is_decided(ref),
    }


@register.inclusion_tag("feedback/_to_rate_list.html", takes_context=True)
def cases_to_rate(context):
    """/me/: the citizen's decided cases of every service, and answered complaints, not rated yet."""
    request = context.get("request")
    user = getattr(request, "user", None)
    refs = services.cases_to_rate(user) if user is not None and user.is_authenticated and not user.is_staff else []
    return {"to_rate": refs}
