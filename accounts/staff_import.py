"""Import staff accounts from a CSV file: office by code, role as group, all or nothing (docs/deploy.md#offices-and-staff)."""

from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import phone
from .emailaddress import canonical_email, normalize_email
from .models import Office, Role, User
from .office_import import ImportFailed, Row, read_table
from .totp_enrol import enrolment_url, new_device

COLUMNS = ("office_code", "role", "username", "real_name", "email", "mobile")
# The agency whose offices a role's members must belong to; supervisors and administrators may sit in either.
ROLE_AGENCY: dict[str, str] = {
    Role.POLICE_OFFICER: Office.Agency.PUBLIC_SECURITY,
    Role.HOUSEHOLD_ADMIN: Office.Agency.PUBLIC_SECURITY,
    Role.FAMILY_PLANNING_OFFICER: Office.Agency.HEALTH_COMMISSION,
}


@dataclass
class StaffImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # (username, one-time enrolment URL) for each member who needs to set up an authenticator.
    enrolments: list[tuple[str, str]] = field(default_factory=list)


def import_staff(*, path: Path, dry_run: bool = False, reenrol: bool = False) -> StaffImportResult:
    """Create or update the staff of the file; raise ImportFailed, having written nothing, if any row is bad.

    New members, members without a confirmed authenticator and (with `reenrol`) everyone in the file get a new
    unconfirmed TOTP device and a one-time link to enrol it.
    """
    rows = read_table(path, columns=COLUMNS, required=COLUMNS)
    errors: list[str] = []
    offices = {
        office.code: office for office in Office.objects.filter(code__in={r.values["office_code"] for r in rows})
    }
    seen: dict[str, str] = {}
    cleaned: list[tuple[Row, dict[str, object], str]] = []
    for row in rows:
        problems, values = _clean(row, offices)
        username = str(values.get("username", ""))
        if username:
            key = username.casefold()
            if key in seen:
                problems.append(
                    _("the username %(username)s is already on %(other)s") % {"username": username, "other": seen[key]}
                )
            seen[key] = row.where
        errors.extend(f"{row.where}: {problem}" for problem in problems)
        cleaned.append((row, values, str(values.get("role", ""))))
    if errors:
        raise ImportFailed(errors)

    result = StaffImportResult()
    with transaction.atomic():
        for row, values, role in cleaned:
            _write(row, values, role, result, reenrol=reenrol)
        if dry_run:
            transaction.set_rollback(True)
            result.enrolments = []
    return result


def _clean(row: Row, offices: dict[str, Office]) -> tuple[list[str], dict[str, object]]:
    v = row.values
    problems: list[str] = []
    values: dict[str, object] = {}
    office = offices.get(v["office_code"])
    if office is None:
        problems.append(_("unknown office %(code)r") % {"code": v["office_code"]})
    values["office"] = office
    if v["role"] not in Role.values:
        problems.append(_("unknown role %(role)r (one of %(roles)s)") % {"role": v["role"], "roles": ", ".join(Role)})
    elif office is not None and ROLE_AGENCY.get(v["role"], office.agency) != office.agency:
        problems.append(
            _("a member with the role %(role)s must belong to an office of %(agency)s")
            % {"role": v["role"], "agency": ROLE_AGENCY[v["role"]]}
        )
    values["role"] = v["role"]
    try:
        values["email"] = canonical_email(normalize_email(v["email"])) if v["email"] else ""
    except ValidationError as exc:
        problems.extend(f"email: {message}" for message in exc.messages)
    if not v["email"]:
        problems.append(_("email: an e-mail address is required"))
    try:
        values["mobile"] = phone.normalize_mobile(v["mobile"]) if v["mobile"] else ""
    except ValidationError as exc:
        problems.extend(f"mobile: {message}" for message in exc.messages)
    existing = User.objects.filter(username__iexact=v["username"]).first() if v["username"] else None
    if existing is not None and not existing.is_staff:
        problems.append(_("%(username)s is a citizen's account, not a staff member's") % {"username": v["username"]})
    user = User(username=v["username"], real_name=v["real_name"], email=str(values.get("email", "")))
    try:
        user.clean_fields(exclude=["password", "email", "mobile", "id_number"])
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            problems.extend(f"{name}: {message}" for message in messages)
    email = values.get("email")
    if email and User.objects.filter(email=email).exclude(pk=existing.pk if existing else None).exists():
        problems.append(_("email: %(email)s is already registered to another account") % {"email": email})
    values.update(username=v["username"], real_name=v["real_name"])
    return problems, values


def _write(row: Row, values: dict[str, object], role: str, result: StaffImportResult, *, reenrol: bool) -> None:
    fields = {name: values[name] for name in ("office", "real_name", "email", "mobile")}
    username = str(values["username"])
    user = User.objects.filter(username__iexact=username).first()
    group, _created = Group.objects.get_or_create(name=role)
    if user is None:
        user = User(username=username, is_staff=True, **fields)
        user.set_unusable_password()  # they set one through the password reset; nobody ever knows it
        user.save()
        user.groups.add(group)
        result.created.append(username)
    else:
        changed = not user.is_staff or any(getattr(user, name) != value for name, value in fields.items())
        current = set(user.groups.filter(name__in=Role.values))
        if changed:
            for name, value in fields.items():
                setattr(user, name, value)
            user.is_staff = True
            user.save()
        if current != {group}:
            user.groups.remove(*(current - {group}))
            user.groups.add(group)
            changed = True
        (result.updated if changed else result.unchanged).append(username)
    if reenrol or not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        result.enrolments.append((username, enrolment_url(new_device(user=user))))
