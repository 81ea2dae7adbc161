"""Demo data (`make run`): every police station publishes visit slots with the default hours and capacity."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Office
from portal.visits.models import VisitStation


class Command(BaseCommand):
    help = "Let every police station take booked visits (demo data, DEBUG only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo data is for local development only (DEBUG=1).")
        made = 0
        for office in Office.objects.filter(kind=Office.Kind.POLICE_STATION, active=True):
            made += VisitStation.objects.get_or_create(office=office)[1]
        self.stdout.write(f"Visit stations: {made} new")
