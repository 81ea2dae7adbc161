"""The data migration that split the old single category into who moves (`category`) and the `grounds`."""

import importlib

import pytest
from django.apps import apps

from hukou.constants import Relation
from hukou.models import MigrationApplication, Mover, OriginMember
from tests.factories import MigrationApplicationFactory

pytestmark = pytest.mark.django_db

split_migration = importlib.import_module("hukou.migrations.0007_split_category_into_who_and_grounds")


def old(offices, category, **fields):
    """An application as stored before the split: the old value in `category`, no grounds."""
    application = MigrationApplicationFactory(offices=offices, grounds="")
    MigrationApplication.objects.filter(pk=application.pk).update(category=category, **fields)
    return application


def after(application):
    application.refresh_from_db()
    return application.category, application.grounds


def head(application, applies=True):
    Mover.objects.create(
        application=application,
        name="王芳",
        id_number="410105196507196913",
        relation=Relation.HEAD,
        is_applicant=applies,
    )


def test_old_categories_become_who_moves_and_grounds(offices):
    whole = old(offices, "whole_household")
    employment_alone = old(offices, "employment")
    head(employment_alone)  # the head moves and applies, nobody stays: a whole household
    purchased_with_staying = old(offices, "purchased_home")
    head(purchased_with_staying)
    OriginMember.objects.create(
        application=purchased_with_staying, name="李强", id_number="410105196507196921", relation=Relation.SPOUSE
    )
    head_not_applying = old(offices, "other")
    head(head_not_applying, applies=False)
    study_collective = old(offices, "study", destination_collective=True)
    joining = old(offices, "join_relatives")
    joining_a_collective = old(offices, "join_relatives", destination_collective=True)  # never a collective move

    split_migration.split(apps, None)

    assert after(whole) == ("whole_household", "")
    assert after(employment_alone) == ("whole_household", "employment")
    assert after(purchased_with_staying) == ("part_household", "purchased_home")
    assert after(head_not_applying) == ("part_household", "other")
    assert after(study_collective) == ("collective", "study")
    assert after(joining) == ("part_household", "join_relatives")
    assert after(joining_a_collective) == ("part_household", "join_relatives")

    split_migration.join(apps, None)
    assert after(joining) == ("join_relatives", "") and after(whole) == ("whole_household", "")
