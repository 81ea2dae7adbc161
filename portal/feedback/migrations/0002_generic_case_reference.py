"""Ratings and feedback name their case generically (service key + case number) instead of by a foreign key to
family planning's applications; the content types move to the app `feedback`; the police roles may read ratings and
answer feedback too, since every service can now be rated.

The old foreign keys are filled into the new columns here (one UPDATE per table) and dropped in 0003.
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery

MODELS = ("rating", "feedback")


def fill_case_references(apps, schema_editor):
    Application = apps.get_model("familyplanning", "FamilyPlanningApplication")
    number = Subquery(Application.objects.filter(pk=OuterRef("application_id")).values("case_number")[:1])
    Rating = apps.get_model("feedback", "Rating")
    Rating.objects.filter(application__isnull=False).update(service="familyplanning", case_number=number)
    Feedback = apps.get_model("feedback", "Feedback")
    Feedback.objects.filter(application__isnull=False).update(
        about_service="familyplanning", about_case_number=number
    )


def _move_content_types(apps, old_label, new_label):
    """Rename the content types, so their permissions (and who holds them) and the timelines (cases.Transition,
    by content type) follow the models. A content type already made under the new label (by a permission grant
    that ran in between) holds nothing of value: its permissions' holders join the old ones, then it goes."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for model in MODELS:
        old = ContentType.objects.filter(app_label=old_label, model=model).first()
        if old is None:
            continue  # a fresh database: the content types are made under the new label after migrating
        new = ContentType.objects.filter(app_label=new_label, model=model).first()
        if new is not None:
            for permission in Permission.objects.filter(content_type=new):
                kept = Permission.objects.filter(content_type=old, codename=permission.codename).first()
                if kept is not None:
                    kept.group_set.add(*permission.group_set.all())
                    kept.user_set.add(*permission.user_set.all())
            Permission.objects.filter(content_type=new).delete()
            new.delete()
        old.app_label = new_label
        old.save(update_fields=["app_label"])


def move_content_types(apps, schema_editor):
    _move_content_types(apps, "familyplanning", "feedback")


def move_content_types_back(apps, schema_editor):
    _move_content_types(apps, "feedback", "familyplanning")


def grant(apps, schema_editor):
    from accounts.roles import grant_permissions

    answer = ["feedback.view_rating", "feedback.view_feedback", "feedback.change_feedback"]
    grant_permissions(
        apps,
        {
            "family_planning_officer": answer,
            "police_officer": answer,
            "household_admin": answer,
            "supervisor": answer,
            "administrator": answer,
        },
    )


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0017_office_code_unique'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('familyplanning', '0011_move_from_familyplanning'),
        ('feedback', '0001_move_from_familyplanning'),
    ]

    operations = [
        migrations.AddField(
            model_name='feedback',
            name='about_case_number',
            field=models.CharField(blank=True, max_length=32, verbose_name='case concerned'),
        ),
        migrations.AddField(
            model_name='feedback',
            name='about_service',
            field=models.CharField(blank=True, max_length=32, verbose_name='service concerned'),
        ),
        migrations.AddField(
            model_name='rating',
            name='case_number',
            field=models.CharField(blank=True, max_length=32, verbose_name='case number'),
        ),
        migrations.AddField(
            model_name='rating',
            name='service',
            field=models.CharField(blank=True, max_length=32, verbose_name='service'),
        ),
        migrations.RunPython(fill_case_references, migrations.RunPython.noop),
        migrations.RunPython(move_content_types, move_content_types_back),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
