"""Fixtures of the feedback tests: those of the family-planning tests (English, a health commission, its staff)."""

from tests.familyplanning.conftest import *  # noqa: F403
