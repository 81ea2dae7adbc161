"""Kept for familyplanning/admin.py's `from . import feedback_admin, policy_admin`: the admin lives in feedback/admin.py."""

from .feedback import admin  # noqa: F401
