"""Service ratings (好差评), complaints, suggestions and consultations, and the follow-ups of poor ratings.

The rules, as functions that views, the admin and tests call alike (docs/services.md#ratings-and-feedback):

- **Ratings** have the five levels of the national system (RatingLevel). A citizen rates a case of theirs of any
  service once it has ended with a decision (approved, issued, settled or refused; a withdrawn case had no decision
  to rate), once per case (一事一评), and the answer to a complaint of theirs the same way;
  or rates an office at any time without a case, once per office and calendar month (the public figures are
  monthly, so each citizen counts once a month for an office).
- **Reasons must fit the level**: satisfied levels (4, 5) take the good reasons; dissatisfied levels (1, 2) take
  the poor reasons, at least one, and "other" needs a comment; "fairly satisfied" (3) may tick either kind.
- A **poor rating** (levels 1 and 2) opens a follow-up (a Feedback of kind FOLLOW_UP) that the office must close
  with a written answer the citizen reads, as the national rules ask of every real-name poor rating.
- **Complaints** (about an office, optionally a named member of staff and/or one of the citizen's cases),
  **suggestions** and **consultations** (a question) are Feedback cases with a case number.
- **Time limits** in working days from the day of filing (day 0), on the portal's working-day calendar
  (docs/architecture.md#the-working-day-clock): consultations 5; complaints, suggestions and follow-ups 15 (the
  national rules' limit for rectifying a poor rating). The shared deadline sweep flags them due soon and overdue;
  an overdue one reaches the office's supervisors (portal.cases.deadlines.sweep_deadlines).
- **Answers** come from an officer or supervisor (or an administrator) whose offices include the case's office, never from the citizen themself nor from the member of staff a complaint names. Answering is a
  guarded transition (OPEN -> ANSWERED) that records whether it came within the time limit and tells the citizen.
- **Public figures** per office and month: ratings, satisfaction (share of levels 3 to 5), average level,
  complaints received, and the share of the complaints received that month that were answered on time, counting
  only those already answered or past their time limit (an open complaint within its limit is not yet decided).
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.identity import ensure_assurance
from accounts.models import Office, Role
from accounts.notify import notify_office
from portal.cases.deadlines import clock_start, clock_stop
from portal.cases.services import (
    TransitionNotAllowed,
    create_with_case_number,
    record_opened,
    required_text,
    transition,
)
from portal.cases.workflow import AccessMessages, ensure_staff_may_act
from portal.notify.services import notify_user

from . import cases
from .cases import CaseRef
from .models import (
    POOR_LEVELS,
    Feedback,
    FeedbackKind,
    FeedbackStatus,
    Rating,
    RatingLevel,
)

logger = logging.getLogger("portal.feedback")

# What a citizen files; follow-ups are opened by poor ratings only.
FILED_KINDS = (FeedbackKind.COMPLAINT, FeedbackKind.SUGGESTION, FeedbackKind.CONSULTATION)
TIME_LIMITS = {
    FeedbackKind.CONSULTATION: 5,
    FeedbackKind.COMPLAINT: 15,
    FeedbackKind.SUGGESTION: 15,
    FeedbackKind.FOLLOW_UP: 15,
}
# Complaints, suggestions and consultations one account may file in 24 hours (flooding an office's queue helps nobody).
DAILY_FILING_LIMIT = 10
# Who answers for an office: the officers of its agency and supervisors (only that agency's staff see it anyway).
ANSWERING_ROLES_BY_AGENCY: dict[str, tuple[str, ...]] = {
    Office.Agency.HEALTH_COMMISSION: (Role.FAMILY_PLANNING_OFFICER, Role.SUPERVISOR),
    Office.Agency.PUBLIC_SECURITY: (Role.POLICE_OFFICER, Role.HOUSEHOLD_ADMIN, Role.SUPERVISOR),
}


def _max_length(model, field: str) -> int:
    return int(model._meta.get_field(field).max_length or 0)


# --- reasons -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    code: str
    label: object  # lazy translation
    good: bool


GOOD_REASONS = (
    # Translators: 好差评 good reason, 办事指南准确清晰
    Reason("guide_clear", gettext_lazy("The guide was accurate and easy to follow"), True),
    # Translators: 好差评 good reason, 办事流程简便
    Reason("simple_procedure", gettext_lazy("The procedure was simple"), True),
    # Translators: 好差评 good reason, 办理效率高
    Reason("quick", gettext_lazy("It was handled quickly"), True),
    # Translators: 好差评 good reason, 申请材料精简
    Reason("few_materials", gettext_lazy("Only the necessary materials were asked for"), True),
    # Translators: 好差评 good reason, 一次性告知
    Reason("told_at_once", gettext_lazy("I was told everything I needed at once"), True),
    # Translators: 好差评 good reason, 少跑腿/最多跑一次
    Reason("few_trips", gettext_lazy("I had to go to the office once at most"), True),
    # Translators: 好差评 good reason, 网上办理便捷
    Reason("online_easy", gettext_lazy("The online service was easy to use"), True),
    # Translators: 好差评 good reason, 服务态度好
    Reason("courteous", gettext_lazy("The staff were courteous and helpful"), True),
)
POOR_REASONS = (
    # Translators: 好差评 poor reason, 办事指南不准确、不清晰
    Reason("guide_unclear", gettext_lazy("The guide was inaccurate or unclear"), False),
    # Translators: 好差评 poor reason, 办事流程繁琐
    Reason("complicated_procedure", gettext_lazy("The procedure was complicated"), False),
    # Translators: 好差评 poor reason, 办理时间长、超时办结
    Reason("slow", gettext_lazy("It took too long, or the time limit was missed"), False),
    # Translators: 好差评 poor reason, 要求提供不必要或重复的材料
    Reason("too_many_materials", gettext_lazy("Unnecessary or repeated materials were asked for"), False),
    # Translators: 好差评 poor reason, 未一次性告知
    Reason("not_told_at_once", gettext_lazy("I was not told everything I needed at once"), False),
    # Translators: 好差评 poor reason, 多次跑腿
    Reason("several_trips", gettext_lazy("I had to go to the office several times"), False),
    # Translators: 好差评 poor reason, 网上办理不畅、系统故障
    Reason("online_problems", gettext_lazy("The online service did not work well"), False),
    # Translators: 好差评 poor reason, 服务态度差
    Reason("discourteous", gettext_lazy("The staff were discourteous or unhelpful"), False),
    # Translators: 好差评 poor reason, 违规收费、吃拿卡要
    Reason("improper_demands", gettext_lazy("Improper fees or favours were asked for"), False),
    # Translators: 好差评 poor reason, 其他 (说明)
    Reason("other", gettext_lazy("Other (say what in the comment)"), False),
)
REASONS = {reason.code: reason for reason in GOOD_REASONS + POOR_REASONS}


def reasons_for_level(level: int) -> tuple[Reason, ...]:
    """The reasons that fit a level: good ones when satisfied, poor ones when not, either for "fairly"."""
    if level in POOR_LEVELS:
        return POOR_REASONS
    if level == RatingLevel.AVERAGE:
        return GOOD_REASONS + POOR_REASONS
    return GOOD_REASONS


def reason_labels(codes) -> list[str]:
    """The labels of stored reason codes, in the current language (an unknown old code shows as itself)."""
    return [str(REASONS[code].label) if code in REASONS else code for code in codes or ()]


def clean_rating(level, reasons, comment) -> tuple[int, list[str], str]:
    """The level as an int, the reason codes (known, fitting, de-duplicated, in list order) and the comment.

    ValidationError names the field at fault ("level", "reasons" or "comment").
    """
    try:
        level = int(level)
    except (TypeError, ValueError):
        level = None
    if level not in RatingLevel.values:
        raise ValidationError({"level": _("Choose a rating from 1 to 5.")}, code="level")
    comment = (comment or "").strip()
    if len(comment) > _max_length(Rating, "comment"):
        raise ValidationError({"comment": _("Keep the comment under 2000 characters.")}, code="too_long")
    given = set(reasons or ())
    unknown = given - REASONS.keys()
    if unknown:
        raise ValidationError({"reasons": _("Unknown reason.")}, code="unknown_reason")
    fitting = reasons_for_level(level)
    if given - {reason.code for reason in fitting}:
        if level in POOR_LEVELS:
            message = _("You chose a dissatisfied rating: choose reasons from the list of what went wrong.")
        else:
            message = _("You chose a satisfied rating: choose reasons from the list of what went well.")
        raise ValidationError({"reasons": message}, code="reason_level")
    if level in POOR_LEVELS and not given:
        raise ValidationError(
            {"reasons": _("Say what went wrong: choose at least one reason, so the office can put it right.")},
            code="reason_required",
        )
    if "other" in given and not comment:
        raise ValidationError({"comment": _("You chose “Other”: say what went wrong.")}, code="comment_required")
    return level, [reason.code for reason in fitting if reason.code in given], comment


# --- who and what --------------------------------------------------------------------------------------


def feedback_offices():
    """Offices a citizen can rate or write to: the active health and family-planning offices."""
    return Office.objects.filter(active=True, kind=Office.Kind.FAMILY_PLANNING).order_by("division_code", "name")


def _ensure_citizen(user):
    if user is None or not user.is_authenticated or not user.is_active:
        raise TransitionNotAllowed(_("Log in to give feedback."))
    if user.is_staff:
        # Staff accounts act for an office; their own views as citizens go through their personal accounts.
        raise TransitionNotAllowed(_("Staff accounts cannot rate services or file feedback."))


def rating_of(ref: CaseRef) -> Rating | None:
    return Rating.objects.filter(service=ref.service, case_number=ref.case_number).first()


def can_rate(*, citizen, case) -> bool:
    """Whether `citizen` may rate this case (a CaseRef or a case of any service) now: their own, decided, not rated
    yet. For the case's page."""
    case = cases.as_ref(case)
    return (
        citizen is not None
        and citizen.is_authenticated
        and not citizen.is_staff
        and case.case.applicant_id == citizen.pk
        and cases.is_decided(case)
        and rating_of(case) is None
    )


def cases_to_rate(citizen) -> list[CaseRef]:
    """The citizen's decided cases of every service (and answered complaints) not rated yet, newest first."""
    decided = cases.citizen_cases(citizen, decided_only=True)
    if not decided:
        return []
    rated = set(Rating.objects.filter(citizen=citizen).exclude(case_number="").values_list("service", "case_number"))
    return [ref for ref in decided if (ref.service, ref.case_number) not in rated and cases.is_decided(ref)]


def _month_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(day.year, day.month, 1))


# --- the citizen's steps -------------------------------------------------------------------------------


def rate(
    *,
    citizen,
    level,
    reasons=(),
    comment: str = "",
    case=None,
    office: Office | None = None,
) -> Rating:
    """A rating of one of the citizen's decided cases of any service (its office), or of an office without a case.

    A poor rating (levels 1 and 2) opens a follow-up with its clock running.
    """
    _ensure_citizen(citizen)
    case = cases.as_ref(case)
    level, codes, comment = clean_rating(level, reasons, comment)
    if case is not None:
        if case.case.applicant_id != citizen.pk:
            raise TransitionNotAllowed(_("You can rate only your own applications."))
        if not cases.is_decided(case):
            raise TransitionNotAllowed(
                _("Application %(number)s can be rated once a decision has been made on it.")
                % {"number": case.case_number}
            )
        office = case.case.office
    elif office is None:
        raise ValidationError({"office": _("Choose the office you want to rate.")}, code="required")
    elif not feedback_offices().filter(pk=office.pk).exists():
        raise ValidationError({"office": _("This office cannot be rated here.")}, code="office")

    with transaction.atomic():
        # One rating at a time per citizen, so the once-per-case and once-per-month checks hold under a double click.
        list(get_user_model().objects.select_for_update().filter(pk=citizen.pk).values_list("pk"))
        if case is not None and rating_of(case) is not None:
            raise TransitionNotAllowed(
                _("You have already rated application %(number)s.") % {"number": case.case_number}
            )
        if case is None:
            month = _month_start(timezone.localdate())
            if Rating.objects.filter(citizen=citizen, office=office, case_number="", created_at__gte=month).exists():
                raise TransitionNotAllowed(
                    _("You have already rated %(office)s this month. You can rate it again next month.")
                    % {"office": office}
                )
        try:
            with transaction.atomic():
                rating = Rating.objects.create(
                    citizen=citizen,
                    office=office,
                    service=case.service if case else "",
                    case_number=case.case_number if case else "",
                    level=level,
                    reasons=codes,
                    comment=comment,
                )
        except IntegrityError:  # the same case rated in another request a moment ago
            raise TransitionNotAllowed(_("This application has already been rated.")) from None
        if rating.is_poor:
            _open_follow_up(rating)
    logger.info("rating %s (level %s) of office %s by user %s", rating.pk, level, office.pk, citizen.pk)
    return rating


def _open_follow_up(rating: Rating) -> Feedback:
    """The follow-up a poor rating opens: a case for the rated office, the clock running from today."""
    # The subject is stored in the office's working language; the pages show the rating itself, translated.
    with translation.override(settings.LANGUAGE_CODE):
        about = rating.case_number or str(rating.office)
        subject = _("%(level)s: %(about)s") % {"level": rating.get_level_display(), "about": about}
    return _open(
        citizen=rating.citizen,
        kind=FeedbackKind.FOLLOW_UP,
        office=rating.office,
        subject=subject[:200],
        body=rating.comment,
        about=(rating.service, rating.case_number),
        rating=rating,
    )


def file_feedback(
    *,
    citizen,
    kind: str,
    subject: str,
    body: str,
    office: Office | None = None,
    staff_named: str = "",
    case=None,
) -> Feedback:
    """A complaint, suggestion or consultation to an office; the office answers within TIME_LIMITS[kind].

    A complaint may name a member of staff and one of the citizen's cases; a consultation may concern one of the
    citizen's cases. When a case is named, the office is the case's office.
    """
    _ensure_citizen(citizen)
    ensure_assurance(citizen, service="feedback")
    case = cases.as_ref(case)
    if kind not in FILED_KINDS:
        raise ValidationError(_("Unknown kind of feedback."), code="kind")
    errors = {}
    subject = (subject or "").strip()
    body = (body or "").strip()
    if not subject:
        errors["subject"] = _("Give a short subject.")
    elif len(subject) > _max_length(Feedback, "subject"):
        errors["subject"] = _("Keep the subject under 200 characters.")
    if not body:
        errors["body"] = _("Write your message.")
    elif len(body) > _max_length(Feedback, "body"):
        errors["body"] = _("Keep the message under 5000 characters.")
    staff_named = " ".join((staff_named or "").split()) if kind == FeedbackKind.COMPLAINT else ""
    if len(staff_named) > _max_length(Feedback, "staff_named"):
        errors["staff_named"] = _("Keep this under 120 characters.")
    if case is not None:
        if kind == FeedbackKind.SUGGESTION:
            case = None  # a suggestion is about the service, not a case
        elif case.case.applicant_id != citizen.pk or case.case.is_draft:
            errors["application"] = _("Choose one of your submitted applications.")
        elif office is not None and office.pk != case.case.office_id:
            errors["office"] = _("Application %(number)s is handled by %(office)s: choose that office.") % {
                "number": case.case_number,
                "office": case.case.office,
            }
        else:
            office = case.case.office
    if office is None and "office" not in errors and "application" not in errors:
        errors["office"] = _("Choose the office.")
    elif case is None and office is not None and not feedback_offices().filter(pk=office.pk).exists():
        errors["office"] = _("Choose the office you are writing to from the list.")
    if errors:
        raise ValidationError(errors)
    since = timezone.now() - datetime.timedelta(hours=24)
    filed = Feedback.objects.filter(applicant=citizen, created_at__gte=since, kind__in=FILED_KINDS).count()
    if filed >= DAILY_FILING_LIMIT:
        raise TransitionNotAllowed(
            _("You have sent %(count)d messages in the last 24 hours. Please wait before sending another one.")
            % {"count": filed}
        )
    return _open(
        citizen=citizen,
        kind=kind,
        office=office,
        subject=subject,
        body=body,
        staff_named=staff_named,
        about=(case.service, case.case_number) if case else ("", ""),
    )


def _open(*, citizen, kind, office, subject, body, staff_named="", about=("", ""), rating=None) -> Feedback:
    """Create the case with its number and running clock, its first timeline row and the notifications."""
    with transaction.atomic():
        feedback = create_with_case_number(
            Feedback,
            Feedback.CASE_PREFIX,
            applicant=citizen,
            office=office,
            status=FeedbackStatus.OPEN,
            kind=kind,
            subject=subject,
            body=body,
            staff_named=staff_named,
            about_service=about[0],
            about_case_number=about[1],
            rating=rating,
            submitted_at=timezone.now(),
            **clock_start(TIME_LIMITS[kind]),
        )
        record_opened(feedback, by=citizen)
        context = {
            "feedback": feedback,
            "case_number": feedback.case_number,
            "due_date": feedback.due_date,
        }
        notify_user(citizen, template="feedback/received", context=context)
        notify_office(office, template="feedback/inbox", context=context, service=feedback)
    logger.info("feedback %s (%s) opened for office %s by user %s", feedback.case_number, kind, office.pk, citizen.pk)
    return feedback


# --- the office's answer -------------------------------------------------------------------------------


def _names_in(text: str) -> set[str]:
    return {part for part in text.replace(",", " ").replace("，", " ").replace("、", " ").split() if part}


# Who may answer: the portal's one rule of role, office scope and own case (portal.cases.workflow), worded for feedback.
ANSWER_ACCESS = AccessMessages(
    staff_only=gettext_lazy("Only staff can answer."),
    wrong_role=gettext_lazy("Only officers and supervisors can answer."),
    other_office=gettext_lazy("This case belongs to another office."),
    own_case=gettext_lazy("You cannot answer your own feedback. Another member of staff must answer it."),
)


def answer_refusal(by, feedback: Feedback) -> str:
    """Why `by` may not answer this feedback, or "" when they may. The admin shows it; answer() enforces it."""
    try:
        roles = ANSWERING_ROLES_BY_AGENCY.get(feedback.office.agency, (Role.SUPERVISOR,))
        ensure_staff_may_act(by, feedback, roles=roles, messages=ANSWER_ACCESS)
    except TransitionNotAllowed as exc:
        return str(exc)
    if by.pk == feedback.applicant_id:
        return str(ANSWER_ACCESS.own_case)
    if feedback.staff_named and _names_in(feedback.staff_named) & ({by.real_name, by.username} - {""}):
        return _("This complaint names you. Another member of staff must answer it.")
    return ""


def answer(*, feedback: Feedback, by, text: str) -> Feedback:
    """OPEN -> ANSWERED with a written answer the citizen reads; records whether it came within the time limit."""
    refusal = answer_refusal(by, feedback)
    if refusal:
        raise TransitionNotAllowed(refusal)
    text = required_text(text, _("Write the answer; the citizen reads it."))
    on_time = feedback.due_date is None or timezone.localdate() <= feedback.due_date
    with transaction.atomic():
        transition(
            feedback,
            to=FeedbackStatus.ANSWERED,
            by=by,
            office=by.office,
            allowed_from=(FeedbackStatus.OPEN,),
            answer=text,
            answered_by=by,
            answered_at=timezone.now(),
            answered_on_time=on_time,
            **clock_stop(),
        )
        if feedback.applicant_id is None:  # asked without an account: the answer goes by e-mail with a link
            from .anonymous import send_answer

            send_answer(feedback, text)
            return feedback
        notify_user(
            feedback.applicant,
            template="feedback/answered",
            context={
                "feedback": feedback,
                "case_number": feedback.case_number,
                "answer": text,
                "office": feedback.office,
            },
        )
    return feedback


# The public figures live in figures.py; their functions are reachable here too, as before the split.
from .figures import (  # noqa: E402, F401
    SATISFIED_MIN_LEVEL,
    OfficeFigures,
    figures_months,
    month_range,
    monthly_figures,
)
