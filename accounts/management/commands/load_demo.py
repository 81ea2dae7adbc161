"""Demo offices and accounts for `make run` (idempotent). Never run against a production database."""

from django.contrib.auth.models import Group
from django.core.management import call_command, get_commands, load_command_class
from django.db import transaction
from django.utils import timezone

from accounts.demo import DemoCommand
from accounts.models import Office, Role, User

DEMO_PASSWORD = "Henan-demo-2026"  # noqa: S105 - printed for local demos only; refused when DEBUG is off  # nosec B105

OFFICES = [
    # (key, parent key or city code, kind, name, English name, division code). The two agencies' trees mirror
    # reality and never mix (docs/architecture.md#security-and-privacy): police stations under district branches
    # under the city bureaus ("410100") under the provincial department; district health commissions under the
    # city's health commission ("hc:410100") under the provincial health commission.
    ("jinshui", "410100", Office.Kind.COUNTY, "郑州市公安局金水分局", "Jinshui Branch, Zhengzhou PSB", "410105"),
    ("jingba", "jinshui", Office.Kind.POLICE_STATION, "经八路派出所", "Jingba Road Police Station", "410105"),
    (
        "zz_hukou",
        "410100",
        Office.Kind.HOUSEHOLD_ADMIN,
        "郑州市公安局户政管理处",
        "Zhengzhou Household Administration",
        "410100",
    ),
    ("laocheng", "410300", Office.Kind.COUNTY, "洛阳市公安局老城分局", "Laocheng Branch, Luoyang PSB", "410302"),
    ("xiguan", "laocheng", Office.Kind.POLICE_STATION, "西关派出所", "Xiguan Police Station", "410302"),
    (
        "ly_hukou",
        "410300",
        Office.Kind.HOUSEHOLD_ADMIN,
        "洛阳市公安局户政管理处",
        "Luoyang Household Administration",
        "410300",
    ),
    (
        "zz_fp",
        "hc:410100",
        Office.Kind.FAMILY_PLANNING,
        "金水区卫生健康委员会",
        "Jinshui District Health Commission",
        "410105",
    ),
]

ACCOUNTS = [
    # username, real name, role, office key, description
    ("citizen", "王芳", None, None, "citizen (confirmed e-mail and mobile)"),
    ("officer_zz", "李警官", Role.POLICE_OFFICER, "jingba", "officer, Jingba Road Police Station, Zhengzhou"),
    ("officer_ly", "赵警官", Role.POLICE_OFFICER, "xiguan", "officer, Xiguan Police Station, Luoyang"),
    ("hukou_zz", "孙科长", Role.HOUSEHOLD_ADMIN, "zz_hukou", "municipal household administrator, Zhengzhou"),
    ("fp_officer", "周主任", Role.FAMILY_PLANNING_OFFICER, "zz_fp", "family-planning officer, Jinshui District"),
    ("supervisor_zz", "钱处长", Role.SUPERVISOR, "410100", "supervisor, Zhengzhou PSB (and every police office below)"),
    (
        "supervisor_hc",
        "吴主任",
        Role.SUPERVISOR,
        "hc:410100",
        "supervisor, Zhengzhou Health Commission (and every district commission below)",
    ),
    ("admin", "系统管理员", Role.ADMINISTRATOR, None, "superuser"),
]


class Command(DemoCommand):
    help = "Create demo offices and accounts (idempotent) and print them."
    print_only_help = "Only print the demo accounts."

    def load_demo(self, *, print_only):
        # Each service adds its own demo content with a `load_demo_<name>` command: found by name, so that
        # accounts imports no service. Those that take --print-only also print what they made (e.g. certificate codes).
        services = sorted(n for n in get_commands() if n.startswith("load_demo_"))
        if not print_only:
            self.load()
            for name in services:
                call_command(name, stdout=self.stdout)
        else:
            for name in services:
                command = load_command_class(get_commands()[name], name)
                if "print_only" in {action.dest for action in command.create_parser("manage.py", name)._actions}:
                    call_command(command, print_only=True, stdout=self.stdout)
        self.stdout.write(f"\nDemo accounts (password for all: {DEMO_PASSWORD})")
        for username, _, _, _, description in ACCOUNTS:
            self.stdout.write(f"  {username:<14} {description}")

    @transaction.atomic
    def load(self):
        # Looked up by ACCOUNTS' office key, None for a citizen (who has no office).
        offices: dict[str | None, Office] = {o.division_code: o for o in Office.objects.filter(kind=Office.Kind.CITY)}
        for commission in Office.objects.filter(kind=Office.Kind.CITY_HEALTH_COMMISSION):
            offices[f"hc:{commission.division_code}"] = commission
        for key, parent, kind, name, name_en, code in OFFICES:
            office, _ = Office.objects.get_or_create(
                name=name,
                defaults={"kind": kind, "name_en": name_en, "division_code": code, "parent": offices[parent]},
            )
            if office.parent_id != offices[parent].pk:
                # A demo database from before the agencies had the district health commission in the police tree.
                office.parent = offices[parent]
                office.save()
            if kind == Office.Kind.POLICE_STATION:
                office.accepts_paper_collection = True
                office.address = {"jingba": "郑州市金水区经八路12号", "xiguan": "洛阳市老城区西关街8号"}[key]
                office.opening_hours = "周一至周五 9:00–17:00"
                office.save()
            offices[key] = office
        ids = ["410105196507196913"]
        for username, real_name, role, office_key, _ in ACCOUNTS:
            if User.objects.filter(username=username).exists():
                continue
            user = User(
                username=username,
                real_name=real_name,
                email=f"{username}@example.test",
                office=offices.get(office_key),
                is_staff=role is not None,
                is_superuser=role == Role.ADMINISTRATOR,
            )
            if role is None:
                user.id_number = ids[0]
                user.mobile = "+8616692816317"
                user.email_confirmed_at = user.mobile_confirmed_at = timezone.now()
            user.set_password(DEMO_PASSWORD)
            user.save()
            if role:
                user.groups.add(Group.objects.get(name=role))
