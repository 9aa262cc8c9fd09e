"""The 行政文書ファイル管理簿: 起算日 and 満了日, the 1年未満 rule, import and export in the
register's layout (Excel and CSV, round trip), row-level errors with nothing half-written."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook

from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.core.models import AuditEntry
from hiroba.records import audit_actions as actions
from hiroba.records import register
from hiroba.records.models import RecordFile, Retention, ShortReason
from tests.records.conftest import file_data

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("fy", "retention", "start", "expiry"), [
    (2024, 5, date(2025, 4, 1), date(2030, 3, 31)),
    (2024, 1, date(2025, 4, 1), date(2026, 3, 31)),
    (2018, 30, date(2019, 4, 1), date(2049, 3, 31)),
    (2024, 0, date(2025, 4, 1), date(2025, 3, 31)),
    (2024, -1, date(2025, 4, 1), None),
])
def test_the_period_starts_the_april_after_the_year_of_creation(departments, fy, retention, start, expiry):
    reason = ShortReason.ROUTINE if retention == 0 else ""
    f = register.file_create(actor="test", data=file_data(departments["care"], fiscal_year=fy, retention=retention,
                                                          short_reason=reason, name=f"ファイル{fy}{retention}"))
    assert (f.start_date, f.expiry_date) == (start, expiry)
    assert AuditEntry.objects.filter(action=actions.FILE_CREATE, object_id=str(f.pk)).exists()


def test_under_one_year_only_for_the_cases_the_guideline_allows(departments):
    with pytest.raises(ServiceError) as exc:
        register.file_create(actor="test", data=file_data(departments["care"], retention=Retention.UNDER_ONE_YEAR))
    assert exc.value.code == "short_reason_required"
    assert not RecordFile.objects.exists()


def test_a_later_start_is_allowed_an_earlier_one_is_not(departments):
    f = register.file_create(actor="test", data=file_data(departments["care"], start_date=date(2021, 4, 1)))
    assert f.expiry_date == date(2026, 3, 31)
    with pytest.raises(ServiceError) as exc:
        register.file_create(actor="test", data=file_data(departments["care"], name="別", start_date=date(2019, 1, 1)))
    assert exc.value.code == "start_too_early"


def test_a_clerk_registers_only_for_their_own_department(departments, care_clerk):
    register.file_create(actor=care_clerk, data=file_data(departments["care"]))
    with pytest.raises(NotAllowed):
        register.file_create(actor=care_clerk, data=file_data(departments["digital"]))


def test_export_then_import_is_a_round_trip_in_both_formats(departments, expired_file):
    register.file_create(actor="test", data=file_data(departments["digital"], name="=cmd|' /C calc'!A0",
                                                      large="情報化", medium="計画", fiscal_year=2024))
    for fmt in ("xlsx", "csv"):
        body = register.export(RecordFile.objects.all(), fmt)
        result = register.register_import(actor="test", body=body, filename=f"kanribo.{fmt}")
        assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    sheet = load_workbook(io.BytesIO(register.export(RecordFile.objects.all(), "xlsx"))).active
    header = [c.value for c in sheet[1]]
    assert header[:15] == register.PUBLIC_HEADINGS
    names = [row[5] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "'=cmd|' /C calc'!A0" in names  # the formula guard
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[5] == "H30_要介護認定調査票")
    assert row[1] == "平成30年度" and row[8] == "5年" and row[9].date() == date(2024, 3, 31)


def _workbook(rows):
    book = Workbook()
    sheet = book.active
    sheet.append(["行政文書ファイル管理簿（高齢介護課）"])
    sheet.append(register.HEADINGS[:15])
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


GOOD = ["高齢介護課", "令和6年度", "介護保険", "要介護認定", "認定調査", "R06_認定調査票", "介護認定係", None, "5年", None,
        "電子", "共有フォルダ", "高齢介護課長", "廃棄", ""]


def test_import_reads_wareki_years_and_computes_the_dates(departments):
    result = register.register_import(actor="test", body=_workbook([GOOD]), filename="r.xlsx")
    assert result.created == 1
    f = RecordFile.objects.get()
    assert (f.fiscal_year, f.start_date, f.expiry_date) == (2024, date(2025, 4, 1), date(2030, 3, 31))
    assert AuditEntry.objects.filter(action=actions.REGISTER_IMPORT).count() == 1


def test_a_malformed_register_reports_each_wrong_row_and_writes_nothing(departments):
    bad_year = [*GOOD[:1], "来年度", *GOOD[2:5], "A", *GOOD[6:]]
    bad_dept = ["存在しない課", *GOOD[1:5], "B", *GOOD[6:]]
    bad_retention = [*GOOD[:5], "C", *GOOD[6:8], "7年", *GOOD[9:]]
    wrong_expiry = [*GOOD[:5], "D", *GOOD[6:9], "2031/3/31", *GOOD[10:]]
    bad_action = [*GOOD[:5], "E", *GOOD[6:13], "保管", ""]
    body = _workbook([GOOD, bad_year, bad_dept, bad_retention, wrong_expiry, bad_action, GOOD])
    with pytest.raises(register.ImportRefused) as exc:
        register.register_import(actor="test", body=body, filename="r.xlsx")
    rows = [e.row for e in exc.value.errors]
    assert rows == [4, 5, 6, 7, 8, 9]
    assert "同じ所属・年度・名称" in exc.value.errors[-1].message
    assert "2030-03-31" in exc.value.errors[3].message
    assert not RecordFile.objects.exists()
    assert not AuditEntry.objects.filter(action=actions.REGISTER_IMPORT).exists()


def test_a_file_without_the_register_columns_is_refused(departments):
    with pytest.raises(ServiceError) as exc:
        register.register_import(actor="test", body="名称,備考\r\nA,B\r\n".encode(), filename="r.csv")
    assert exc.value.code == "columns"
    with pytest.raises(ServiceError):
        register.register_import(actor="test", body=b"PK\x03\x04garbage", filename="r.xlsx")


def test_shift_jis_csv_is_read(departments):
    text = ",".join(register.HEADINGS[:15]) + "\r\n" + ",".join("" if v is None else v for v in GOOD) + "\r\n"
    result = register.register_import(actor="test", body=text.encode("cp932"), filename="r.csv")
    assert result.created == 1


@pytest.mark.parametrize(("text", "year"), [("令和6年度", 2024), ("R6", 2024), ("R06", 2024), ("令和元年度", 2019),
                                            ("平成30年度", 2018), ("2024", 2024), ("２０２４年度", 2024)])
def test_fiscal_years_in_every_spelling(text, year):
    assert register.parse_fiscal_year(text) == year
