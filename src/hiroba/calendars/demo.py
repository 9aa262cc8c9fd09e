"""Demo data: two ward elementary schools with 令和7年度 imported from the sample template.

The events go through the real import service (preview, then apply), exactly as a clerk's
upload would. Idempotent: a school that already has this file applied is left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from hiroba.accounts import demo as accounts_demo
from hiroba.calendars import sample, services
from hiroba.calendars.models import ImportBatch, School
from hiroba.core.models import Department

SAMPLE_NAME = "school_calendar_template.xlsx"

# (department code, school slug, name, short name, address, latitude, longitude, staff email)
# The staff accounts are in hiroba.accounts.demo.STAFF (担当 of the school's department).
SCHOOLS = [
    ("kojimachi-es", "kojimachi", "千代田区立麹町小学校", "麹町小", "東京都千代田区麹町二丁目8番",
     Decimal("35.684600"), Decimal("139.740600"), "kojimachi.kyomu@hiroba.example"),
    ("bancho-es", "bancho", "千代田区立番町小学校", "番町小", "東京都千代田区六番町8番",
     Decimal("35.688000"), Decimal("139.732800"), "bancho.kyomu@hiroba.example"),
]


def load(say: Callable[[str], None]) -> None:
    parent = Department.objects.filter(code="kyoiku").first()
    template = sample.as_xlsx()
    for order, (code, slug, name, short, address, lat, lon, email) in enumerate(SCHOOLS):
        # Departments have no service of their own; the accounts demo creates them the same way.
        department, _ = Department.objects.get_or_create(
            code=code, defaults={"name": name.removeprefix("千代田区立"), "parent": parent, "sort_order": 100 + order},
        )
        school = School.objects.filter(slug=slug).first()
        if school is None:
            school = services.school_create(
                actor="demo", department=department, slug=slug, name=name, short_name=short,
                kind=School.Kind.ELEMENTARY, classes_per_grade=2, address=address, phone="",
                latitude=lat, longitude=lon,
            )
        accounts_demo.staff_account(email)
        if ImportBatch.objects.filter(school=school, filename=SAMPLE_NAME, state=ImportBatch.State.APPLIED).exists():
            say(f"{name}: 令和7年度の予定は取込済みです")
            continue
        batch = services.import_preview(actor="demo", school=school, filename=SAMPLE_NAME,
                                        content=template)
        if batch.errors:
            raise RuntimeError(f"見本テンプレートにエラーがあります: {batch.errors[:3]}")
        batch = services.import_apply(actor="demo", batch=batch)
        say(f"{name}: 令和7年度の予定を取り込みました（新規 {batch.summary['created']} 件、学期 {batch.summary['terms']} 件）。"
            f" 職員 {email}（担当）")
