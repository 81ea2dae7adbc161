"""After the load: what the clients did must be in the database exactly once, and nothing may be lost.

Each check returns {"name", "ok", "detail", ...figures}. Run by bench/load/run.py once the worker has drained.
"""

from collections import Counter
from pathlib import Path

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.models import User
from certificates.models import Application, Status
from certificates.services import KIND_CERTIFICATE
from portal.cases.models import Transition
from portal.documents.models import DocumentAccess
from portal.notify.models import Channel, MessageStatus, OutboxMessage
from portal.verify.models import DocumentStatus, IssuedDocument, VerificationLog


def _result(name, problems, **figures):
    return {"name": name, "ok": not problems, "detail": problems[:20], "problems": len(problems), **figures}


def check_registrations(client: dict, run_id: str) -> dict:
    """Every registration the client saw succeed is one account, with both contacts confirmed when it applied."""
    problems = []
    usernames = client["registered"]
    found = Counter(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    for username in usernames:
        if found[username] != 1:
            problems.append(f"account {username}: {found[username]} rows")
    extra = User.objects.filter(username__startswith=f"c{run_id}-").exclude(username__in=usernames).count()
    return _result("registrations: one account each", problems, registered=len(usernames), unseen_by_client=extra)


def check_submissions(client: dict, run_id: str) -> dict:
    """Every application the client saw submitted exists exactly once, submitted, for that citizen; no other."""
    problems = []
    submitted = {case: username for username, case in client["submitted"]}
    unconfirmed = {case: username for username, case in client["submit_unconfirmed"]}
    rows = Application.objects.filter(case_number__in=[*submitted, *unconfirmed]).select_related("applicant")
    by_case = {}
    for application in rows:
        by_case.setdefault(application.case_number, []).append(application)
    for case, username in submitted.items():
        found = by_case.get(case, [])
        if len(found) != 1:
            problems.append(f"{case}: {len(found)} rows")
            continue
        application = found[0]
        if application.applicant.username != username:
            problems.append(f"{case}: applicant {application.applicant.username}, the client was {username}")
        if application.status == Status.DRAFT or application.submitted_at is None:
            problems.append(f"{case}: still a draft although the citizen was told it was submitted")
        if not application.applicant.contact_confirmed:
            problems.append(f"{case}: submitted without confirmed contacts")
    # Per citizen of this run: at most one application, and none submitted that the client does not know of.
    mine = Application.objects.filter(applicant__username__startswith=f"c{run_id}-")
    for row in mine.values("applicant__username").annotate(n=Count("pk")).filter(n__gt=1):
        problems.append(f"{row['applicant__username']}: {row['n']} applications (one was started)")
    stray = mine.exclude(status=Status.DRAFT).exclude(case_number__in=[*submitted, *unconfirmed])
    for application in stray:
        problems.append(f"{application.case_number}: submitted, but no client submitted it")
    content_type = ContentType.objects.get_for_model(Application)
    twice = (
        Transition.objects.filter(content_type=content_type, to_status=Status.SUBMITTED, from_status=Status.DRAFT)
        .values("object_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    for row in twice:
        problems.append(f"application {row['object_id']}: submitted {row['n']} times")
    in_flight_done = sum(1 for case in unconfirmed if any(a.status != Status.DRAFT for a in by_case.get(case, [])))
    duplicates = (
        Application.objects.values("case_number").annotate(n=Count("pk")).filter(n__gt=1).count()
    )  # unique in the schema; checked anyway
    if duplicates:
        problems.append(f"{duplicates} case numbers used twice")
    return _result(
        "submissions: each exists once",
        problems,
        submitted=len(submitted),
        cut_off_by_the_end_of_the_run=len(unconfirmed),
        of_which_stored=in_flight_done,
        drafts_left=mine.filter(status=Status.DRAFT).count(),
    )


def check_approvals() -> dict:
    """Every approval has exactly one certificate, stored (file and hash), and the application is issued."""
    problems = []
    content_type = ContentType.objects.get_for_model(Application)
    transitions = Transition.objects.filter(content_type=content_type)
    approved_twice = transitions.filter(to_status=Status.APPROVED).values("object_id").annotate(n=Count("pk"))
    for row in approved_twice.filter(n__gt=1):
        problems.append(f"application {row['object_id']}: approved {row['n']} times")
    accepted_twice = transitions.filter(to_status=Status.ACCEPTED).values("object_id").annotate(n=Count("pk"))
    for row in accepted_twice.filter(n__gt=1):
        problems.append(f"application {row['object_id']}: accepted {row['n']} times")
    approvals = Application.objects.filter(decided_by__isnull=False, status__in=(Status.APPROVED, Status.ISSUED))
    documents = IssuedDocument.objects.filter(source_type=content_type, kind=KIND_CERTIFICATE)
    per_source = Counter(documents.values_list("source_id", flat=True))
    per_generation = Counter(documents.values_list("source_id", "generation"))
    for (source, generation), n in per_generation.items():
        if n > 1:
            problems.append(f"application {source} generation {generation}: {n} certificates")
    stuck = 0
    for application in approvals:
        if application.status != Status.ISSUED:
            stuck += 1
            problems.append(f"{application.case_number}: approved but still {application.status} after the drain")
        if per_source[application.pk] != 1:
            problems.append(f"{application.case_number}: {per_source[application.pk]} certificates")
    for document in documents.filter(source_id__in=[a.pk for a in approvals]):
        if document.status not in (DocumentStatus.VALID, DocumentStatus.REVOKED):
            problems.append(f"certificate {document.code}: {document.status}")
        elif not document.file or not document.sha256 or not document.file.storage.exists(document.file.name):
            problems.append(f"certificate {document.code}: no stored file")
    orphans = documents.exclude(source_id__in=approvals.values("pk")).count()
    if orphans:
        problems.append(f"{orphans} certificates for applications that were not approved")
    return _result(
        "approvals: exactly one certificate each",
        problems,
        approvals=approvals.count(),
        certificates=documents.count(),
        still_approved=stuck,
    )


# The messages each step queues: (template, transitions to this status, channels per event).
EVENT_MESSAGES = (
    ("certificates/submitted", Status.SUBMITTED),
    ("certificates/accepted", Status.ACCEPTED),
    ("certificates/ready", Status.ISSUED),
)


def check_outbox(since, run_id: str) -> dict:
    """Every message is sent or waiting for a scheduled retry; each step queued its e-mail and SMS."""
    problems = []
    now = timezone.now()
    rows = OutboxMessage.objects.filter(created_at__gte=since)
    status = Counter(rows.values_list("status", flat=True))
    failed = rows.filter(status=MessageStatus.FAILED)
    for message in failed[:10]:
        problems.append(f"outbox {message.pk} ({message.template}): failed: {message.last_error}")
    stuck = rows.filter(
        Q(status__in=(MessageStatus.PENDING, MessageStatus.SENDING))
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    )
    for message in stuck[:10]:
        problems.append(f"outbox {message.pk} ({message.template}): {message.status}, due and not delivered")
    retrying = rows.filter(status=MessageStatus.PENDING, next_attempt_at__gt=now).count()
    # Completeness: for each status change, the applicant's e-mail and SMS rows exist.
    content_type = ContentType.objects.get_for_model(Application)
    expected, queued = {}, {}
    for template, to_status in EVENT_MESSAGES:
        changes = Transition.objects.filter(content_type=content_type, to_status=to_status, at__gte=since)
        events = changes.exclude(from_status=F("to_status")).count()  # not a revocation's timeline note
        expected[template] = 2 * events
        queued[template] = rows.filter(template=template).count()
        if queued[template] != expected[template]:
            problems.append(f"{template}: {queued[template]} messages for {events} events (e-mail and SMS each)")
    registered_here = User.objects.filter(username__startswith=f"c{run_id}-").count()  # through the form
    for template in ("accounts/confirm_email", "accounts/mobile_code"):
        queued[template] = rows.filter(template=template).count()
        expected[template] = registered_here
        if queued[template] < registered_here:
            problems.append(f"{template}: {queued[template]} messages for {registered_here} registrations")
    return _result(
        "outbox: nothing lost or stuck",
        problems,
        messages=rows.count(),
        by_status=dict(status),
        retry_scheduled=retrying,
        emails=rows.filter(channel=Channel.EMAIL).count(),
        sms=rows.filter(channel=Channel.SMS).count(),
        expected=expected,
        queued=queued,
    )


def check_mail_delivered(mail_dir: Path, since) -> dict:
    """The e-mails the outbox marks sent are the ones the mail backend wrote (the file backend stands in for SMTP)."""
    sent = OutboxMessage.objects.filter(created_at__gte=since, channel=Channel.EMAIL, status=MessageStatus.SENT).count()
    written = 0
    for path in mail_dir.glob("*.log"):
        written += sum(1 for line in path.read_text(errors="replace").splitlines() if line == "-" * 79)
    problems = [] if written == sent else [f"{written} e-mails written for {sent} marked sent"]
    return _result(
        "e-mail: every message marked sent was handed to the mail backend", problems, sent=sent, written=written
    )


def check_verification_log(answered: int, since) -> dict:
    """Every verification answered (200 or 404, not 429) is in VerificationLog after the buffer is drained."""
    logged = VerificationLog.objects.filter(at__gte=since).count()
    problems = [] if logged >= answered else [f"{logged} verifications logged, {answered} answered"]
    return _result("verification log: every answered look-up logged", problems, answered=answered, logged=logged)


def check_document_views(viewed: int, since) -> dict:
    """Every officer's view of a citizen's document is in the access log."""
    logged = DocumentAccess.objects.filter(at__gte=since, user__is_staff=True).count()
    problems = [] if logged >= viewed else [f"{logged} staff views logged, {viewed} images served to staff"]
    return _result("staff document views: every one logged", problems, viewed=viewed, logged=logged)


def check_progress(client: dict) -> dict:
    """The run got far enough for the checks above to mean something: citizens submitted, officers approved."""
    problems = []
    if not client["submitted"]:
        problems.append("no citizen got to submit an application")
    if not client["approved"]:
        problems.append("no officer got to approve an application")
    return _result(
        "progress: the checks were exercised", problems, submitted=len(client["submitted"]), approved=client["approved"]
    )
