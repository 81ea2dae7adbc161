"""Staff roles are Groups; each app grants its permissions to them with `grant_permissions`."""

from django.contrib.auth.management import create_permissions

from .models import Role


def grant_permissions(apps, role_perms: dict[str, list[str]]):
    """For data migrations: give roles permissions named 'app_label.codename'."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    for role, perms in role_perms.items():
        group, _ = Group.objects.get_or_create(name=role)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


__all__ = ["Role", "grant_permissions"]
