"""The citizen's feedback pages (ratings, complaints, suggestions, consultations) and the public monthly figures."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal.cases.services import TransitionError

from . import anonymous, cases, services
from .forms import AnonymousConsultationForm, FeedbackForm, OfficeRatingForm, RatingForm
from .models import Feedback, FeedbackKind, FeedbackStatus, Rating


def _errors_into(form, exc):
    """A service's refusal shown on the form: field errors at their fields, the rest above the form."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        for message in getattr(exc, "messages", None) or [str(exc)]:
            form.add_error(None, message)


def _follow_up_message(request, rating):
    follow_up = getattr(rating, "follow_up", None)
    if follow_up is None:
        messages.success(request, _("Thank you for your rating."))
    else:
        messages.success(
            request,
            _(
                "Thank you for your rating. The office will look into what went wrong and answer you in writing by "
                "%(date)s (case %(number)s)."
            )
            % {"date": follow_up.due_date.isoformat(), "number": follow_up.case_number},
        )


@login_required
@never_cache
def index(request):
    """My feedback: my ratings, my complaints, suggestions and questions, and the cases I can still rate."""
    user = request.user
    context = {
        "ratings": Rating.objects.filter(citizen=user).select_related("office", "follow_up"),
        "items": Feedback.objects.filter(applicant=user).select_related("office"),
        "to_rate": services.cases_to_rate(user),
        "time_limits": services.TIME_LIMITS,
    }
    return render(request, "feedback/index.html", context)


def _rated(request, form, **target):
    """Rate the case or office `target` names with a bound, valid rating form; True once done (with the follow-up
    case's message when the rating opened one), False with the refusal put on the form."""
    if not (form.is_bound and form.is_valid()):
        return False
    try:
        rating = services.rate(
            citizen=request.user,
            level=form.cleaned_data["level"],
            reasons=form.cleaned_data["reasons"],
            comment=form.cleaned_data["comment"],
            **target,
        )
    except (TransitionError, ValidationError) as exc:
        _errors_into(form, exc)
        return False
    _follow_up_message(request, rating)
    return True


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def rate(request, service, case_number):
    """Rate one of my decided cases of any service (once); anyone else's case looks like no case at all."""
    application = cases.find(service, case_number)
    if application is None or application.case.applicant_id != request.user.pk:
        raise Http404(_("No such case."))
    if services.rating_of(application) is not None:
        messages.info(request, _("You have already rated application %(number)s.") % {"number": case_number})
        return redirect(application.url or "feedback:index")
    if not cases.is_decided(application):
        messages.info(
            request,
            _("Application %(number)s can be rated once a decision has been made on it.") % {"number": case_number},
        )
        return redirect(application.url or "feedback:index")
    form = RatingForm(request.POST if request.method == "POST" else None)
    if _rated(request, form, case=application):
        return redirect(application.url or "feedback:index")
    return render(
        request,
        "feedback/rate.html",
        {"form": form, "application": application},
        status=400 if form.is_bound else 200,
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def rate_office(request):
    form = OfficeRatingForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid() and _rated(request, form, office=form.cleaned_data["office"]):
        return redirect("feedback:index")
    return render(request, "feedback/rate_office.html", {"form": form}, status=400 if form.is_bound else 200)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def submit(request, kind):
    """A complaint, suggestion or consultation (the policy pages link here for questions)."""
    initial = {}
    topic = " ".join(request.GET.get("topic", "").split())[:200]
    if topic:
        initial["subject"] = topic
    form = FeedbackForm(
        request.POST if request.method == "POST" else None, kind=kind, user=request.user, initial=initial
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            item = services.file_feedback(
                citizen=request.user,
                kind=kind,
                office=data.get("office"),
                case=data.get("application"),
                staff_named=data.get("staff_named", ""),
                subject=data["subject"],
                body=data["body"],
            )
        except (TransitionError, ValidationError) as exc:
            _errors_into(form, exc)
        else:
            messages.success(
                request,
                _("Received with case number %(number)s. The office will answer by %(date)s.")
                % {"number": item.case_number, "date": item.due_date.isoformat() if item.due_date else ""},
            )
            return redirect("feedback:detail", case_number=item.case_number)
    return render(
        request,
        "feedback/file.html",
        {"form": form, "kind": kind, "working_days": services.TIME_LIMITS[kind]},
        status=400 if form.is_bound else 200,
    )


@login_required
@never_cache
def detail(request, case_number):
    item = get_object_or_404(
        Feedback.objects.select_related("office", "rating"),
        case_number=case_number,
        applicant=request.user,
    )
    about = cases.find(item.about_service, item.about_case_number) if item.about_case_number else None
    context = {
        "item": item,
        "about": about,
        "answered": item.status == FeedbackStatus.ANSWERED,
        "reasons": services.reason_labels(item.rating.reasons) if item.rating else [],
        "timeline": [
            {"at": entry.at, "label": item.status_label(entry.to_status), "note": entry.note}
            for entry in item.public_timeline()
        ],
    }
    return render(request, "feedback/detail.html", context)


def _chosen_month(value: str, months: list[datetime.date]) -> datetime.date:
    """The month named by ?month=YYYY-MM if it is one of `months`, else the newest."""
    try:
        chosen = datetime.datetime.strptime(value or "", "%Y-%m").date()
    except ValueError:
        return months[0]
    return chosen if chosen in months else months[0]


def figures(request):
    """Public: each office's monthly ratings and satisfaction, and how many complaints were answered on time."""
    today = timezone.localdate()
    months = services.figures_months(today)
    month = _chosen_month(request.GET.get("month", ""), months)
    rows, total = services.monthly_figures(month=month, today=today)
    index = months.index(month)
    context = {
        "month": month,
        "months": months,
        "rows": rows,
        "total": total,
        "newer": months[index - 1] if index > 0 else None,
        "older": months[index + 1] if index + 1 < len(months) else None,
        "satisfied_min": services.SATISFIED_MIN_LEVEL,
        "limits": services.TIME_LIMITS,
        "complaint_limit": services.TIME_LIMITS[FeedbackKind.COMPLAINT],
    }
    return render(request, "feedback/figures.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def ask(request):
    """A question without an account (portal.feedback.anonymous): throttled per address and e-mail, no CAPTCHA."""
    if request.user.is_authenticated and not request.user.is_staff:
        return redirect("feedback:consult")
    form = AnonymousConsultationForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            anonymous.check_throttle(request, data["email"])
            item = anonymous.ask(
                name=data["name"],
                email=data["email"],
                office=data["office"],
                subject=data["subject"],
                body=data["body"],
            )
        except anonymous.Throttled as exc:
            form.add_error(None, str(exc))
            status = 429
        except ValidationError as exc:
            _errors_into(form, exc)
        else:
            return render(request, "feedback/asked.html", {"item": item})
    if form.is_bound and status == 200:
        status = 400
    return render(
        request,
        "feedback/ask.html",
        {"form": form, "working_days": services.TIME_LIMITS[FeedbackKind.CONSULTATION]},
        status=status,
    )


@never_cache
def read_answer(request, code):
    """The question and its answer, for whoever holds the link from the answer e-mail (no account)."""
    item = anonymous.find_by_code(code)
    if item is None:
        raise Http404(_("No such case."))
    return render(request, "feedback/read_answer.html", {"item": item})
