"""Copy chinesecalendar's official holidays and make-up working days of a year into the calendar table."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.workdays.services import CalendarError, calendar_year_load_official


class Command(BaseCommand):
    help = "Copy the chinesecalendar library's holidays and make-up working days of YEAR into the table."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("years", nargs="+", type=int, metavar="year")

    def handle(self, *args: Any, years: list[int], **options: Any) -> None:
        for year in years:
            try:
                count = calendar_year_load_official(year=year)
            except CalendarError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(self.style.SUCCESS(f"{year}: {count} days written; the year is marked complete."))
