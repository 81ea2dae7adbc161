"""The one User (real-name), the tree of offices, and staff roles."""

from typing import TYPE_CHECKING, Any, ClassVar, cast

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.fields import optional_link, optional_reference
from portal.masking import mask_mobile

from . import idnumber, phone, usernames
from .emailaddress import canonical_email, normalize_email
from .validators import validate_person_name, validate_single_line


class Office(models.Model):
    """A node of the jurisdiction tree: province → city → county → station or office, each tree one agency's.

    Every office belongs to an agency, and so does every office above it: the public security tree (provincial
    department, city bureaus, district branches, police stations, household administrations) and the health
    commission tree (provincial commission, city commissions, district commissions) never mix, so that a supervisor's
    subtree never holds another agency's offices (docs/architecture.md#security-and-privacy).
    """

    class Kind(models.TextChoices):
        PROVINCE = "province", _("Provincial department")
        CITY = "city", _("Municipal public security bureau")
        COUNTY = "county", _("County or district bureau")
        POLICE_STATION = "police_station", _("Police station")
        HOUSEHOLD_ADMIN = "household_admin", _("Municipal household administration")
        FAMILY_PLANNING = "family_planning", _("Health and family-planning office")
        CITY_HEALTH_COMMISSION = "city_health_commission", _("Municipal health commission")

    class Agency(models.TextChoices):
        """The government body an office is part of; each service names the one that handles it (portal.registry)."""

        PUBLIC_SECURITY = "public_security", _("Public security")
        HEALTH_COMMISSION = "health_commission", _("Health commission")

    # The agency every kind but the province belongs to; a province node names its agency itself.
    KIND_AGENCY: ClassVar[dict[str, str]] = {
        Kind.CITY: Agency.PUBLIC_SECURITY,
        Kind.COUNTY: Agency.PUBLIC_SECURITY,
        Kind.POLICE_STATION: Agency.PUBLIC_SECURITY,
        Kind.HOUSEHOLD_ADMIN: Agency.PUBLIC_SECURITY,
        Kind.FAMILY_PLANNING: Agency.HEALTH_COMMISSION,
        Kind.CITY_HEALTH_COMMISSION: Agency.HEALTH_COMMISSION,
    }

    # Codes offices made without one receive (Office.default_code); the migration gave the existing offices the same.
    KIND_CODE_PREFIX: ClassVar[dict[str, str]] = {
        Kind.CITY: "ps",
        Kind.COUNTY: "county",
        Kind.POLICE_STATION: "station",
        Kind.HOUSEHOLD_ADMIN: "hukou",
        Kind.FAMILY_PLANNING: "fp",
        Kind.CITY_HEALTH_COMMISSION: "hc",
    }
    AGENCY_CODE_PREFIX: ClassVar[dict[str, str]] = {Agency.PUBLIC_SECURITY: "ps", Agency.HEALTH_COMMISSION: "hc"}

    code = models.CharField(
        _("office code"),
        max_length=40,
        unique=True,
        blank=True,
        help_text=_("Stable code the office import matches offices by, e.g. ps-410100; given when left empty."),
    )
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=160, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    agency = models.CharField(
        _("agency"),
        max_length=32,
        choices=Agency.choices,
        help_text=_("Its staff see only the cases of the services this agency handles."),
    )
    division_code = models.CharField(
        _("administrative division code"), max_length=12, db_index=True, help_text=_("GB/T 2260 code, e.g. 410105.")
    )
    parent = optional_reference("self", _("parent office"), related_name="children")
    # Materialised path of primary keys ("/1/5/23/") so that "this office and those below" is one indexed prefix query.
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("telephone"), max_length=40, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=120, blank=True)
    accepts_paper_collection = models.BooleanField(_("paper certificates can be collected here"), default=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("office")
        verbose_name_plural = _("offices")
        ordering = ["division_code", "name"]

    def __str__(self):
        from django.utils.translation import get_language

        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name

    def save(self, *args, **kwargs):
        if not self.agency:
            # Offices made in code name their kind; the agency follows from it, or (a province) from the parent.
            self.agency = self.KIND_AGENCY.get(self.kind) or (
                cast("Office", self.parent).agency if self.parent_id else ""
            )
        if not self.agency:
            raise ValueError(f"office {self.name!r} of kind {self.kind!r} needs an agency")
        if self.parent_id and cast("Office", self.parent).agency != self.agency:
            # The trees never mix: a supervisor above must never find another agency's office below.
            raise ValueError(f"office {self.name!r} ({self.agency}) cannot be below an office of another agency")
        if not self.code:
            base = self.default_code(kind=self.kind, agency=self.agency, division_code=self.division_code)
            self.code, n = base, 1
            while Office.objects.filter(code=self.code).exclude(pk=self.pk).exists():
                n += 1
                self.code = f"{base}-{n}"
        super().save(*args, **kwargs)
        new_path = (cast("Office", self.parent).path if self.parent_id else "/") + f"{self.pk}/"
        if new_path != self.path:
            old_path = self.path
            Office.objects.filter(pk=self.pk).update(path=new_path)
            self.path = new_path
            if old_path:
                # Moving a subtree: rewrite the descendants' paths.
                for child in Office.objects.filter(path__startswith=old_path).exclude(pk=self.pk):
                    Office.objects.filter(pk=child.pk).update(path=new_path + child.path[len(old_path) :])

    @classmethod
    def default_code(cls, *, kind: str, agency: str, division_code: str) -> str:
        """The code an office of this kind and division gets when none is given: ps-410000, hc-410100, hukou-410100."""
        prefix = cls.AGENCY_CODE_PREFIX.get(agency, agency) if kind == cls.Kind.PROVINCE else cls.KIND_CODE_PREFIX[kind]
        return f"{prefix}-{division_code}"

    def clean(self):
        super().clean()
        expected = self.KIND_AGENCY.get(self.kind)
        if self.agency and expected and self.agency != expected:
            raise ValidationError(
                {
                    "agency": _("Offices of the kind “%(kind)s” belong to the agency “%(agency)s”.")
                    % {"kind": self.get_kind_display(), "agency": self.Agency(expected).label}
                }
            )
        parent = self.parent if self.parent_id else None
        if parent is not None and self.agency and parent.agency != self.agency:
            raise ValidationError(
                {
                    "parent": _("Choose a parent office of the same agency (%(agency)s).")
                    % {"agency": self.get_agency_display()}
                }
            )

    @property
    def display_name(self):
        return str(self)

    def chain_to_city(self) -> list["Office"]:
        """This office and its parents up to the municipal bureau (inclusive; never the province), nearest first."""
        chain: list[Office] = [self]
        office = self
        seen = {self.pk}
        while office.kind != Office.Kind.CITY and office.parent_id and office.parent_id not in seen:
            office = cast("Office", office.parent)
            if office.kind == Office.Kind.PROVINCE:
                break
            seen.add(office.pk)
            chain.append(office)
        return chain

    def full_name(self) -> str:
        """The name an official document gives the office: city bureau, branch and station, e.g.
        郑州市公安局金水分局经八路派出所 (a branch named 郑州市公安局金水分局 already carries the city's name)."""
        full = ""
        for office in self.chain_to_city():
            if not full.startswith(office.name):
                full = office.name + full
        return full

    def full_name_en(self) -> str:
        """The English counterpart, nearest first: "Jingba Road Police Station, Jinshui Branch, Zhengzhou PSB"."""
        parts: list[str] = []
        for office in self.chain_to_city():
            name = office.name_en.strip()
            if name and not any(name in part or part.endswith(name) for part in parts):
                parts.append(name)
        # A branch named "…, Zhengzhou PSB" already says the city bureau.
        if len(parts) >= 2 and parts[-1].split()[0] in parts[-2]:
            parts.pop()
        return ", ".join(parts)

    def subtree(self):
        """This office and every office below it."""
        return Office.objects.filter(path__startswith=self.path)

    def ancestors(self):
        ids = [int(p) for p in self.path.strip("/").split("/") if p and int(p) != self.pk]
        return Office.objects.filter(pk__in=ids)

    def city(self):
        """The city-level office above (or this one)."""
        if self.kind == self.Kind.CITY:
            return self
        return self.ancestors().filter(kind=self.Kind.CITY).first()


class Role(models.TextChoices):
    """Staff roles; each is a Group with its permissions, created by migration."""

    POLICE_OFFICER = "police_officer", _("Police station officer")
    HOUSEHOLD_ADMIN = "household_admin", _("Municipal household administrator")
    FAMILY_PLANNING_OFFICER = "family_planning_officer", _("Family-planning officer")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMINISTRATOR = "administrator", _("Administrator")


class Assurance(models.TextChoices):
    """How sure the portal is that an account's holder is the person named on it (docs/architecture.md#identity).

    In the order of confidence; compare levels with `assurance_rank`, never with `<` on the strings.
    """

    DECLARED = "declared", _("Declared")
    VERIFIED = "verified", _("Verified")
    IN_PERSON = "in_person", _("In person")


ASSURANCE_RANK: dict[str, int] = {"declared": 1, "verified": 2, "in_person": 3}
# The levels at which an account holds its ID number against every other account.
VERIFIED_LEVELS = (Assurance.VERIFIED, Assurance.IN_PERSON)


def assurance_rank(level: str) -> int:
    return ASSURANCE_RANK.get(str(level), 0)


class IdentityMethod(models.TextChoices):
    CARRIER = "carrier", _("Mobile operator's check of name, ID number and mobile")
    OIDC = "oidc", _("Sign-in with the national government-service platform")
    DEMO = "demo", _("Demonstration check (development only)")
    COUNTER = "counter", _("ID card seen at a police station")


class PortalUserManager(UserManager):
    def get_by_natural_key(self, username):
        # Log in with the username, case-insensitively.
        return self.get(username__iexact=username)


class User(AbstractUser):
    """A real-name user: citizens and staff alike."""

    class Sex(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    # Removes AbstractUser's two name fields (one real name instead): a field set to None is no field in Django.
    first_name = None  # type: ignore[assignment]  # removes the field (stubs: always a str)
    last_name = None  # type: ignore[assignment]  # removes the field (stubs: always a str)
    # The UTS #39 confusable skeleton of the username (accounts.usernames): a new name that looks like one taken is
    # refused by looking its skeleton up here.
    username_skeleton = models.CharField(max_length=600, blank=True, editable=False, db_index=True)
    real_name = models.CharField(_("real name"), max_length=60, validators=[validate_single_line, validate_person_name])
    id_number = models.CharField(
        _("resident ID number"),
        max_length=18,
        # Unique only among verified accounts (Meta.constraints): an impostor's unverified account must never lock the
        # real holder out of registering (docs/architecture.md#identity-assurance).
        db_index=True,
        null=True,
        blank=True,
        validators=[idnumber.validate_id_number],
        help_text=_("18 characters, as on your resident ID card."),
    )
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True, editable=False)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True, editable=False)
    mobile = models.CharField(_("mobile phone"), max_length=20, blank=True, validators=[phone.validate_mobile])
    email = models.EmailField(_("e-mail address"))
    email_confirmed_at = models.DateTimeField(_("e-mail confirmed"), null=True, blank=True)
    mobile_confirmed_at = models.DateTimeField(_("mobile confirmed"), null=True, blank=True)
    office = optional_reference(Office, _("office"), related_name="staff")
    assurance_level = models.CharField(
        _("identity assurance"), max_length=16, choices=Assurance.choices, default=Assurance.DECLARED, editable=False
    )
    assurance_method = models.CharField(
        _("identity assured by"), max_length=16, choices=IdentityMethod.choices, blank=True, editable=False
    )
    assured_at = models.DateTimeField(_("identity assured"), null=True, blank=True, editable=False)
    assurance_check = optional_link("IdentityCheck", _("identity check"), editable=False)
    # The national platform's stable subject identifier, set at the first sign-in there: a returning person is found
    # by it, never by the name or number in the claims.
    oidc_subject = models.CharField(max_length=255, null=True, blank=True, unique=True, editable=False)
    suspended_at = models.DateTimeField(_("suspended"), null=True, blank=True)
    suspension_reason = models.TextField(_("reason for suspension"), blank=True)
    must_change_password = models.BooleanField(_("must reset password"), default=False)
    data_consent_at = models.DateTimeField(_("consented to processing of personal data"), null=True, blank=True)
    language = models.CharField(
        _("language for messages"),
        max_length=8,
        default="zh-hans",
        choices=[("zh-hans", "简体中文"), ("en", "English")],
    )

    objects: ClassVar[PortalUserManager] = PortalUserManager()
    REQUIRED_FIELDS = ["email", "real_name"]

    if TYPE_CHECKING:
        # Kept on the User loaded for one request by accounts.scoping (never saved).
        _is_administrator: bool
        _staff_scope: tuple[set[int] | None, str]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            # Of all accounts with one ID number, at most one has reached Verified: whoever got there first.
            models.UniqueConstraint(
                fields=["id_number"],
                condition=models.Q(assurance_level__in=["verified", "in_person"]),
                name="accounts_user_id_number_verified_unique",
            ),
        ]
        indexes = [
            # The administrators' user list: newest first, and the staff among millions of citizens. (The prefix
            # searches on username and e-mail use expression indexes made by migration 0007 on PostgreSQL.)
            models.Index(fields=["-date_joined"], name="accounts_user_joined"),
            models.Index(fields=["-date_joined"], name="accounts_user_staff_joined", condition=models.Q(is_staff=True)),
        ]

    def __str__(self):
        return f"{self.real_name} ({self.username})" if self.real_name else self.username

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.id_number:
            info = idnumber.parse(self.id_number)
            self.id_number, self.sex, self.birth_date = info.number, info.sex, info.birth_date
        else:
            self.id_number = None
        if self.email:
            self.email = canonical_email(self.email)  # one spelling per mailbox (accounts.emailaddress)
        self.username_skeleton = usernames.username_skeleton(self.username)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "username" in update_fields:
            kwargs["update_fields"] = {*update_fields, "username_skeleton"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """The admin's forms: the e-mail address in its canonical form, and not another account's mailbox."""
        super().clean()
        if self.email:
            try:
                self.email = normalize_email(self.email)
            except ValidationError as exc:
                raise ValidationError({"email": exc}) from None
            if User.objects.filter(email=self.email).exclude(pk=self.pk).exists():
                raise ValidationError(
                    {"email": _("This e-mail address is already registered to another account.")}, code="duplicate"
                )

    @property
    def masked_id_number(self):
        return idnumber.mask(self.id_number or "")

    @property
    def id_number_notice(self) -> str:
        """The citizen's notice when the ID number's county code is not in the table (recomputed, never stored)."""
        return idnumber.county_code_notice(self.id_number)

    @property
    def masked_mobile(self):
        return mask_mobile(self.mobile)

    @property
    def masked_name(self):
        return idnumber.mask_name(self.real_name)

    @property
    def is_suspended(self):
        return self.suspended_at is not None

    @property
    def contact_confirmed(self):
        """Both e-mail and mobile confirmed: required before an application can be submitted."""
        return bool(self.email_confirmed_at and self.mobile_confirmed_at)

    @property
    def identity_verified(self) -> bool:
        """Verified or In person: the identity was checked, not only declared."""
        return self.assurance_level in VERIFIED_LEVELS

    def get_short_name(self) -> str:
        """How the admin greets a member of staff ("Welcome, 王警官"): their real name, else the username."""
        return self.real_name or self.first_name or self.get_username()

    def has_role(self, role: str) -> bool:
        return self.groups.filter(name=role).exists()

    def suspend(self, reason):
        self.suspended_at = timezone.now()
        self.suspension_reason = reason
        self.is_active = False
        self.save(update_fields=["suspended_at", "suspension_reason", "is_active"])

    def lift_suspension(self):
        self.suspended_at = None
        self.suspension_reason = ""
        self.is_active = True
        self.save(update_fields=["suspended_at", "suspension_reason", "is_active"])


class MobileCode(models.Model):
    """A six-digit SMS code confirming a mobile number or resetting a password; only its keyed hash is stored."""

    class Purpose(models.TextChoices):
        CONFIRM = "confirm", _("confirm the mobile number")
        PASSWORD_RESET = "password_reset", _("reset the password")

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="mobile_codes")
    mobile = models.CharField(_("sent to"), max_length=20)
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(_("sent"), default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(_("expires"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    # Part of the keyed hash too: a code sent to confirm the number never resets the password, nor the reverse.
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices, default=Purpose.CONFIRM)

    class Meta:
        verbose_name = _("SMS confirmation code")
        verbose_name_plural = _("SMS confirmation codes")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "created_at"], name="accounts_mobilecode_user_sent")]

    def __str__(self):
        return f"{self.user_id} {mask_mobile(self.mobile)} {self.created_at:%Y-%m-%d %H:%M}"


class MisuseReport(models.Model):
    """A citizen's report that someone else used their account; the account is suspended when it is filed."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="misuse_reports")
    description = models.TextField(_("description"))
    created = models.DateTimeField(_("reported"), default=timezone.now, db_index=True)
    handled_by = optional_link(User, _("handled by"))
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)

    class Meta:
        verbose_name = _("report of account misuse")
        verbose_name_plural = _("reports of account misuse")
        ordering = ["-created"]

    def __str__(self):
        return f"{self.user} {self.created:%Y-%m-%d %H:%M}"

    @property
    def is_handled(self):
        return self.handled_at is not None


class IdentityCheck(models.Model):
    """One attempt to check an account holder's identity, and its outcome.

    Only what the decision needs is kept: the method, the outcome, a short reason for a failure and the gateway's
    reference; never the gateway's answer itself. A counter check also records the document seen (its number
    masked), the officer and their office.
    """

    class Outcome(models.TextChoices):
        MATCH = "match", _("match")
        MISMATCH = "mismatch", _("mismatch")
        ERROR = "error", _("error")
        TIMEOUT = "timeout", _("timeout")

    class Document(models.TextChoices):
        RESIDENT_ID = "resident_id", _("Resident ID card")
        TEMPORARY_ID = "temporary_id", _("Temporary resident ID card")

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="identity_checks")
    method = models.CharField(_("method"), max_length=16, choices=IdentityMethod.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    reference = models.CharField(_("reference"), max_length=120, blank=True)
    document_type = models.CharField(_("document seen"), max_length=16, choices=Document.choices, blank=True)
    document_number = models.CharField(_("document number (masked)"), max_length=40, blank=True)
    officer = optional_reference(User, _("officer"))
    office = optional_reference(Office, _("office"))

    class Meta:
        verbose_name = _("identity check")
        verbose_name_plural = _("identity checks")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["user", "at"], name="accounts_idcheck_user_at")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.method} {self.outcome} {self.at:%Y-%m-%d %H:%M}"
