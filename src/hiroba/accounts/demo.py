"""Demo data: the ward's departments (from the committee paper) and one staff member per role.

Idempotent: running it again changes nothing. Staff enrol MFA at their first sign-in.
"""

from __future__ import annotations

from collections.abc import Callable

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

# (email, name, department code, role)
STAFF = [
    ("admin@hiroba.example", "情報 太郎", "joho-system", Role.ADMIN),
    ("dx.approver@hiroba.example", "承認 花子", "digital-seisaku", Role.APPROVE),
    ("dx.clerk@hiroba.example", "担当 一郎", "digital-seisaku", Role.HANDLE),
    ("kaigo.clerk@hiroba.example", "介護 次郎", "korei-kaigo", Role.HANDLE),
    ("kyoiku.viewer@hiroba.example", "閲覧 三郎", "shido", Role.READ),
]


def load(say: Callable[[str], None]) -> None:
    by_code: dict[str, Department] = {}
    for order, (code, name, name_en, parent) in enumerate(DEPARTMENTS):
        dept, _ = Department.objects.get_or_create(
            code=code,
            defaults={"name": name, "name_en": name_en, "parent": by_code.get(parent or ""), "sort_order": order},
        )
        by_code[code] = dept
    created = 0
    for email, name, code, role in STAFF:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = services.staff_create(actor="demo", email=email, display_name=name, password=DEMO_PASSWORD)
            created += 1
        if not StaffMembership.objects.filter(user=user, department=by_code[code]).exists():
            services.membership_grant(actor="demo", user=user, department=by_code[code], role=role)
    say(f"所属 {len(by_code)} 件、職員 {len(STAFF)} 名（新規 {created}）。パスワード: {DEMO_PASSWORD}"
        "（初回ログイン時に二要素認証を設定します）")
