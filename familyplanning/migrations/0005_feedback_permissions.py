"""Family-planning officers and supervisors read the ratings of their offices and answer complaints, suggestions,
questions and the follow-ups of poor ratings. Nobody adds or deletes them in the admin: citizens file them."""

from django.db import migrations


def grant(apps, schema_editor):
    from accounts.roles import grant_permissions

    answer = ["familyplanning.view_rating", "familyplanning.view_feedback", "familyplanning.change_feedback"]
    grant_permissions(apps, {"family_planning_officer": answer, "supervisor": answer, "administrator": answer})


class Migration(migrations.Migration):
    dependencies = [("familyplanning", "0004_policy_permissions")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
