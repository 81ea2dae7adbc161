"""Booked visits (docs/architecture.md#booked-visits): a station's opening hours and capacity, its slots, and the
visits citizens book for an in-person step of a case of any service.

A visit names its case generically (content type, id and the case number), so that portal never imports a service;
each service says in portal.visits.purposes when a case may book and at which station.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.fields import optional_reference, user_reference


class VisitStation(models.Model):
    """An office that receives booked visits: when it opens, how long a slot is and how many people it receives."""

    office = models.OneToOneField(
        "accounts.Office", verbose_name=_("office"), on_delete=models.CASCADE, related_name="visit_station"
    )
    active = models.BooleanField(
        _("takes bookings"), default=True, help_text=_("Citizens can book only while this is ticked.")
    )
    morning_opens = models.TimeField(_("morning opens"), default=datetime.time(9, 0))
    morning_closes = models.TimeField(_("morning closes"), default=datetime.time(12, 0))
    afternoon_opens = models.TimeField(_("afternoon opens"), null=True, blank=True, default=datetime.time(14, 0))
    afternoon_closes = models.TimeField(_("afternoon closes"), null=True, blank=True, default=datetime.time(17, 0))
    slot_minutes = models.PositiveSmallIntegerField(
        _("minutes per slot"), default=30, validators=[MinValueValidator(10), MaxValueValidator(240)]
    )
    capacity = models.PositiveSmallIntegerField(
        _("people per slot"), default=3, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    days_ahead = models.PositiveSmallIntegerField(
        _("working days ahead"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("How many working days ahead citizens may book, from the next working day."),
    )

    class Meta:
        verbose_name = _("visit station")
        verbose_name_plural = _("visit stations")
        ordering = ["office__division_code", "office__name"]

    def __str__(self) -> str:
        return str(self.office)

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.morning_opens and self.morning_closes and self.morning_opens >= self.morning_closes:
            errors["morning_closes"] = _("The morning must close after it opens.")
        if (self.afternoon_opens is None) != (self.afternoon_closes is None):
            errors["afternoon_closes"] = _("Give both afternoon times, or neither.")
        elif self.afternoon_opens and self.afternoon_closes:
            if self.afternoon_opens >= self.afternoon_closes:
                errors["afternoon_closes"] = _("The afternoon must close after it opens.")
            elif self.morning_closes and self.afternoon_opens < self.morning_closes:
                errors["afternoon_opens"] = _("The afternoon must open after the morning closes.")
        if errors:
            raise ValidationError(errors)

    def periods(self) -> list[tuple[datetime.time, datetime.time]]:
        """The opening periods of a working day."""
        found = [(self.morning_opens, self.morning_closes)]
        if self.afternoon_opens and self.afternoon_closes:
            found.append((self.afternoon_opens, self.afternoon_closes))
        return found

    def slot_times(self) -> list[tuple[datetime.time, datetime.time]]:
        """(start, end) of every slot of a working day: each period cut into slots; a remainder too short is left."""
        length = datetime.timedelta(minutes=self.slot_minutes)
        times = []
        day = datetime.date(2000, 1, 3)
        for opens, closes in self.periods():
            start, end = datetime.datetime.combine(day, opens), datetime.datetime.combine(day, closes)
            while start + length <= end:
                times.append((start.time(), (start + length).time()))
                start += length
        return times


class VisitSlot(models.Model):
    """One slot of one day at a station. `booked` counts its live bookings; the database refuses more than
    `capacity` (the booking itself is a conditional UPDATE, portal.visits.services.book)."""

    station = models.ForeignKey(
        VisitStation, verbose_name=pgettext_lazy("visits", "station"), on_delete=models.CASCADE, related_name="slots"
    )
    day = models.DateField(_("day"))
    starts_at = models.TimeField(pgettext_lazy("visits", "starts"))
    ends_at = models.TimeField(pgettext_lazy("visits", "ends"))
    capacity = models.PositiveSmallIntegerField(pgettext_lazy("visits", "places"))
    booked = models.PositiveSmallIntegerField(pgettext_lazy("visits", "booked"), default=0)

    class Meta:
        verbose_name = _("visit slot")
        verbose_name_plural = _("visit slots")
        ordering = ["day", "starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["station", "day", "starts_at"], name="visits_slot_unique_start"),
            models.CheckConstraint(
                condition=models.Q(booked__lte=models.F("capacity")), name="visits_slot_within_capacity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.booked, 0)


class VisitStatus(models.TextChoices):
    BOOKED = "booked", pgettext_lazy("visits", "Booked")
    CANCELLED = "cancelled", _("Cancelled")
    ATTENDED = "attended", pgettext_lazy("visits", "Came")
    NO_SHOW = "no_show", pgettext_lazy("visits", "Did not come")


class Visit(models.Model):
    """A citizen's booking of a slot for an in-person step of one case (of any service)."""

    slot = models.ForeignKey(
        VisitSlot, verbose_name=pgettext_lazy("visits", "slot"), on_delete=models.PROTECT, related_name="visits"
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    case = GenericForeignKey("content_type", "object_id")
    case_number = models.CharField(_("case number"), max_length=40, db_index=True)
    purpose = models.CharField(_("purpose"), max_length=40)
    applicant = user_reference(_("applicant"))
    status = models.CharField(_("status"), max_length=12, choices=VisitStatus.choices, default=VisitStatus.BOOKED)
    created_at = models.DateTimeField(_("first booked"), auto_now_add=True)
    # When the current slot was chosen (booking or rebooking): the reminder skips a visit booked on its reminder day.
    booked_at = models.DateTimeField(pgettext_lazy("visits", "booked"))
    reminder_sent_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)
    closed_at = models.DateTimeField(_("cancelled or recorded"), null=True, blank=True)
    outcome_by = optional_reference(settings.AUTH_USER_MODEL, _("recorded by"))
    outcome_note = models.TextField(_("internal note (staff only)"), blank=True)

    class Meta:
        verbose_name = _("booked visit")
        verbose_name_plural = _("booked visits")
        ordering = ["slot__day", "slot__starts_at", "pk"]
        constraints = [
            # One live booking per case and purpose: two tabs booking at once leave one.
            models.UniqueConstraint(
                fields=["content_type", "object_id", "purpose"],
                condition=models.Q(status="booked"),
                name="visits_one_live_booking_per_case",
            )
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="visits_visit_case"),
        ]

    def __str__(self) -> str:
        return f"{self.case_number} · {self.slot}"
