"""The base of the demo-data commands (`load_demo` and each service's `load_demo_<name>`, for `make run`)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class DemoCommand(BaseCommand):
    """A command that loads demo data (idempotent), refused unless DEBUG is on. One that can print what it made
    instead names the help of its --print-only option in `print_only_help` (load_demo passes it on)."""

    print_only_help = ""

    def add_arguments(self, parser):
        if self.print_only_help:
            parser.add_argument("--print-only", action="store_true", help=self.print_only_help)

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo data is for local development only (DEBUG=1).")
        self.load_demo(print_only=options.get("print_only", False))

    def load_demo(self, *, print_only: bool) -> None:
        raise NotImplementedError
