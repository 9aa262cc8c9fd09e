"""Demo data: the ward's departments (from the committee paper) and every demo account.

Every demo account — staff and residents alike — signs in with DEMO_PASSWORD. STAFF lists every
staff account any app's demo uses (the README's table is this list); the apps' demos take theirs
with `staff_account(email)` rather than inventing their own. Idempotent: running it again changes
nothing. Staff enrol MFA at their first sign-in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password

from hiroba.accounts import services
from hiroba.accounts.models import Role, StaffMembership, User
from hiroba.core.models import Department

DEMO_PASSWORD = "Kuyakusho-Demo-2025"

# (code, name, English name, parent code)
DEPARTMENTS = [
    ("seisaku-keiei", "政策経営部", "Policy and Management Division", None),
    ("joho-system", "情報システム課", "Information Systems Section", "seisaku-keiei"),
    ("digital-seisaku", "デジタル政策課", "Digital Policy Section", "seisaku-keiei"),
    ("hoken-fukushi", "保健福祉部", "Health and Welfare Division", None),
    ("korei-kaigo", "高齢介護課", "Elderly and Long-term Care Section", "hoken-fukushi"),
    ("kyoiku", "教育委員会事務局", "Board of Education Secretariat", None),
    ("shido", "指導課", "School Guidance Section", "kyoiku"),
    ("chiiki-shinko", "地域振興部", "Community Promotion Division", None),
    ("shoko-kanko", "商工観光課", "Commerce and Tourism Section", "chiiki-shinko"),
]


@dataclass(frozen=True)
class DemoStaff:
    email: str
    name: str
    department: str | None  # code; None: no department role (a proposals reviewer)
    role: Role | None
    what: str  # what the account is for, as the README's table says it


STAFF = [
    DemoStaff("admin@hiroba.example", "情報 太郎", "joho-system", Role.ADMIN, "システム管理者"),
    DemoStaff("dx.approver@hiroba.example", "承認 花子", "digital-seisaku", Role.APPROVE, "承認"),
    DemoStaff("dx.clerk@hiroba.example", "担当 一郎", "digital-seisaku", Role.HANDLE, "担当"),
    DemoStaff("kaigo.clerk@hiroba.example", "介護 次郎", "korei-kaigo", Role.HANDLE, "担当"),
    DemoStaff("kyoiku.viewer@hiroba.example", "閲覧 三郎", "shido", Role.READ, "閲覧"),
    DemoStaff("shinsa1@hiroba.example", "審査 一", None, None, "デジタル活用提案の審査員"),
    DemoStaff("shinsa2@hiroba.example", "審査 二", None, None, "デジタル活用提案の審査員"),
    DemoStaff("shinsa3@hiroba.example", "審査 三", None, None, "デジタル活用提案の審査員"),
    DemoStaff("shinsa4@hiroba.example", "審査 四", None, None, "デジタル活用提案の審査員"),
    # The school departments are made by the calendars demo (with the schools).
    DemoStaff("kojimachi.kyomu@hiroba.example", "麹町 教務", "kojimachi-es", Role.HANDLE, "担当（学校カレンダー）"),
    DemoStaff("bancho.kyomu@hiroba.example", "番町 教務", "bancho-es", Role.HANDLE, "担当（学校カレンダー）"),
]
STAFF_BY_EMAIL = {s.email: s for s in STAFF}

# A resident to try the resident pages with (the open call of the proposals demo).
RESIDENT = ("kumin@hiroba.example", "区民 さくら")


def password_hash() -> str:
    """The demo password hashed once, for demos that create many residents at a time."""
    return make_password(DEMO_PASSWORD)


def staff_account(email: str) -> User:
    """One of the STAFF accounts, created with the demo password if it is not there yet, with its
    role granted once its department exists."""
    entry = STAFF_BY_EMAIL[email]
    user = User.objects.filter(email=email).first()
    if user is None:
        user = services.staff_create(actor="demo", email=email, display_name=entry.name, password=DEMO_PASSWORD)
    if entry.department and entry.role is not None:
        department = Department.objects.filter(code=entry.department).first()
        if department is not None and not StaffMembership.objects.filter(user=user, department=department).exists():
            services.membership_grant(actor="demo", user=user, department=department, role=entry.role)
    return user


def resident_account(email: str, display_name: str) -> User:
    """A resident account as sign-up makes it (a verified address), with the demo password."""
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD, kind=User.Kind.RESIDENT,
                                        display_name=display_name)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def load(say: Callable[[str], None]) -> None:
    by_code: dict[str, Department] = {}
    for order, (code, name, name_en, parent) in enumerate(DEPARTMENTS):
        dept, _ = Department.objects.get_or_create(
            code=code,
            defaults={"name": name, "name_en": name_en, "parent": by_code.get(parent or ""), "sort_order": order},
        )
        by_code[code] = dept
    before = User.objects.filter(email__in=list(STAFF_BY_EMAIL)).count()
    for entry in STAFF:
        if entry.department is None or entry.department in by_code:
            staff_account(entry.email)
    resident_account(*RESIDENT)
    staff = User.objects.filter(email__in=list(STAFF_BY_EMAIL)).count()
    say(f"所属 {len(by_code)} 件、職員 {staff} 名（新規 {staff - before}）、区民 {RESIDENT[0]}。"
        f"パスワード: {DEMO_PASSWORD}（職員は初回ログイン時に二要素認証を設定します）")
