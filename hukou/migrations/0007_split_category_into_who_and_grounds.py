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
    # Three set-based UPDATEs, in this order (each moves the rows it matches out of `old`): a large table is split
    # in three statements, not three queries per row. SQL reads every right-hand side before the row changes, so
    # `grounds` takes the old category.
    from django.db.models import Exists, F, OuterRef

    MigrationApplication = apps.get_model("hukou", "MigrationApplication")
    Mover = apps.get_model("hukou", "Mover")
    OriginMember = apps.get_model("hukou", "OriginMember")

    def old():
        return MigrationApplication.objects.exclude(category__in=WHO)

    old().filter(destination_collective=True).exclude(category="join_relatives").update(
        grounds=F("category"), category="collective"
    )
    head_applies = Mover.objects.filter(application_id=OuterRef("pk"), relation="head", is_applicant=True)
    someone_stays = OriginMember.objects.filter(application_id=OuterRef("pk"))
    old().filter(Exists(head_applies)).exclude(Exists(someone_stays)).update(
        grounds=F("category"), category="whole_household"
    )
    old().update(grounds=F("category"), category="part_household")


def join(apps, schema_editor):
    MigrationApplication = apps.get_model("hukou", "MigrationApplication")
    for grounds in ("join_relatives", "purchased_home", "employment", "study", "other"):
        MigrationApplication.objects.filter(grounds=grounds).update(category=grounds, grounds="")


class Migration(migrations.Migration):
    dependencies = [("hukou", "0006_move_grounds_and_kept_inputs")]

    operations = [migrations.RunPython(split, join)]
