"""People and offices: valid synthetic ID numbers, citizens, offices and staff."""

import datetime
import itertools
import json
import random
from pathlib import Path

import factory
from django.contrib.auth.models import Group
from django.utils import timezone
from stdnum.cn import ric

from accounts.models import Office, Role, User

# Written by tests/data/make_identities.py (synthetic people of nobody; see its docstring).
TESTDATA = Path(__file__).resolve().parent.parent / "data" / "identities.json"
_seq = itertools.count(1)


def identities():
    return json.loads(TESTDATA.read_text(encoding="utf-8"))


_issued_id_numbers = set()


def make_id_number(area="410105", birth=None, sex=None, rng=random):
    """A valid 18-character number of nobody: area code, birth date, sequence (odd male, even female), check.

    Never the same number twice in a process (unless a seeded rng is passed): with a fixed birth date only 500
    sequences are left per sex, and two applicants born the same day in one test once drew the same number in CI.
    """
    for _ in range(200):
        day = birth or datetime.date(1960, 1, 1) + datetime.timedelta(days=rng.randrange(0, 50 * 365))
        seq = rng.randrange(0, 999)
        if sex == "M" and seq % 2 == 0:
            seq = (seq + 1) % 1000
        if sex == "F" and seq % 2 == 1:
            seq = (seq + 1) % 1000
        body = f"{area}{day:%Y%m%d}{seq:03d}"
        number = body + ric.calc_check_digit(body + "0")
        if number not in _issued_id_numbers or rng is not random:  # a seeded rng must give its fixed number
            break
    _issued_id_numbers.add(number)
    return number


def _unique_mobile(n):
    return f"+86138{n:08d}"


def city_health_commission(division_code):
    """The municipal health commission (accounts migration 0010) of the city a division code lies in."""
    city = "419001" if division_code.startswith("4190") else division_code[:4] + "00"
    return Office.objects.get(division_code=city, kind=Office.Kind.CITY_HEALTH_COMMISSION)


def _default_parent(office):
    # As in reality: a police office under the Zhengzhou bureau, a health office under its city's commission.
    if Office.KIND_AGENCY.get(office.kind) == Office.Agency.HEALTH_COMMISSION:
        return city_health_commission(office.division_code)
    return Office.objects.get(division_code="410100", kind=Office.Kind.CITY)


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Office

    name = factory.Sequence(lambda n: f"测试派出所{n}")
    name_en = factory.Sequence(lambda n: f"Test Police Station {n}")
    kind = Office.Kind.POLICE_STATION
    division_code = "410105"
    parent = factory.LazyAttribute(_default_parent)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"citizen{n}")
    real_name = factory.Sequence(lambda n: ["张三", "李四", "王小明", "赵敏", "陈静"][n % 5])
    id_number = factory.LazyFunction(lambda: make_id_number())
    mobile = factory.Sequence(_unique_mobile)
    email = factory.Sequence(lambda n: f"user{n}@example.test")
    email_confirmed_at = factory.LazyFunction(timezone.now)
    mobile_confirmed_at = factory.LazyFunction(timezone.now)
    password = factory.django.Password("Correct-Horse-42")
    # Citizens are Verified by default, so that tests which submit applications keep their meaning; `declared=True`
    # makes one that only registered (docs/architecture.md#identity-assurance).
    assurance_level = "verified"
    assurance_method = "demo"
    assured_at = factory.LazyFunction(timezone.now)

    class Params:
        unconfirmed = factory.Trait(email_confirmed_at=None, mobile_confirmed_at=None)
        declared = factory.Trait(assurance_level="declared", assurance_method="", assured_at=None)
        suspended = factory.Trait(
            suspended_at=factory.LazyFunction(timezone.now), is_active=False, suspension_reason="reported misuse"
        )


class StaffFactory(UserFactory):
    """A staff member of `office`; `role=` names the group (police officer by default)."""

    username = factory.Sequence(lambda n: f"officer{n}")
    is_staff = True
    id_number = None
    office = factory.SubFactory(OfficeFactory)
    assurance_level = "declared"
    assurance_method = ""
    assured_at = None

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create:
            self.groups.add(Group.objects.get_or_create(name=extracted or Role.POLICE_OFFICER)[0])
