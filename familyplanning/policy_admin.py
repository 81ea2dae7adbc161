"""Kept for familyplanning/admin.py's `from . import feedback_admin, policy_admin`: the admin lives in policy/admin.py."""

from .policy import admin  # noqa: F401
