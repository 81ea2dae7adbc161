"""The old single category mixed who moves with why: split it into `category` (who moves) and `grounds`.

Old value -> (category, grounds):
- whole_household, part_household, collective -> unchanged, grounds "" (not asked then; a draft asks it again);
- join_relatives, purchased_home, employment, study, other -> grounds = the old value, and who moves is read from
  the application: a collective household destination -> collective; the head of household moves, applies and nobody
  stays behind -> whole household (every whole-household rule the case already met); otherwise part of a household.
  None of these rules apply differently to the old grounds categories, so no case gains or loses a rule violation.

Backwards: the grounds, when given, becomes the category again (who moves is lost, as it was never stored).
"""

from django.db import migrations

WHO = ("whole_household", "part_household", "collective")


def split(apps, schema_editor):
    MigrationApplication = apps.get_model("hukou", "MigrationApplication")
    Mover = apps.get_model("hukou", "Mover")
    OriginMember = apps.get_model("hukou", "OriginMember")
    old = MigrationApplication.objects.exclude(category__in=WHO)
    for application in old.only("pk", "category", "destination_collective").iterator():
        if application.destination_collective and application.category != "join_relatives":
            who = "collective"
        elif (
            Mover.objects.filter(application_id=application.pk, relation="head", is_applicant=True).exists()
            and not OriginMember.objects.filter(application_id=application.pk).exists()
        ):
            who = "whole_household"
        else:
            who = "part_household"
        MigrationApplication.objects.filter(pk=application.pk).update(category=who, grounds=application.category)


def join(apps, schema_editor):
    MigrationApplication = apps.get_model("hukou", "MigrationApplication")
    for grounds in ("join_relatives", "purchased_home", "employment", "study", "other"):
        MigrationApplication.objects.filter(grounds=grounds).update(category=grounds, grounds="")


class Migration(migrations.Migration):
    dependencies = [("hukou", "0006_move_grounds_and_kept_inputs")]

    operations = [migrations.RunPython(split, join)]
