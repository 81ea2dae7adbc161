"""Beat job of booked visits (portal/settings.py CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from . import services


@shared_task(name="portal.visits.tasks.send_visit_reminders")
def send_visit_reminders() -> int:
    """The SMS reminder to everyone booked for the next working day, once each."""
    return services.send_reminders()
