"""Family-planning officers and supervisors write and publish policies, notices and common questions; only
administrators delete one (a published article is withdrawn, not deleted, so that the record stays)."""

from django.db import migrations


def grant(apps, schema_editor):
    from accounts.roles import grant_permissions

    write = [
        "familyplanning.view_policyarticle",
        "familyplanning.add_policyarticle",
        "familyplanning.change_policyarticle",
    ]
    grant_permissions(
        apps,
        {
            "family_planning_officer": write,
            "supervisor": write,
            "administrator": [*write, "familyplanning.delete_policyarticle"],
        },
    )


class Migration(migrations.Migration):
    dependencies = [("familyplanning", "0003_feedback_and_policy")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
