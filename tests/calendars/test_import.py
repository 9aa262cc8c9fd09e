"""Import from the Excel/CSV template: row-level Japanese errors, all-or-nothing, updates in place."""

from __future__ import annotations

import io
from datetime import date, time

import pytest
from openpyxl import Workbook, load_workbook

from hiroba.calendars import importing, queries, sample, services
from hiroba.calendars.models import Event, EventRevision, ImportBatch, Term
from hiroba.core.models import AuditEntry

HEADER = ["ID", "対象", "区分", "件名", "開始日", "終了日", "開始時刻", "終了時刻", "場所", "説明"]


def xlsx(rows: list[list[object]], *, header: list[str] = HEADER, title: str | None = None,
         merge: str | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list[str]], *, encoding: str = "utf-8-sig", header: list[str] = HEADER) -> bytes:
    lines = [",".join(header)] + [",".join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def preview(school, content: bytes, filename: str = "r7.xlsx") -> ImportBatch:
    return services.import_preview(actor="test", school=school, filename=filename, content=content)


def messages(batch: ImportBatch) -> list[str]:
    return [f"{e['line']}:{e['column']}:{e['message']}" for e in batch.errors]


def test_the_sample_template_imports_a_whole_year_without_errors(school):
    batch = preview(school, sample.as_xlsx(), "template.xlsx")
    assert batch.errors == []
    applied = services.import_apply(actor="test", batch=batch)
    assert applied.summary["created"] == len(sample.rows()) - 3
    assert applied.summary["terms"] == 3
    events = Event.objects.filter(school=school)
    assert events.order_by("start_date").first().start_date == date(2025, 4, 7)
    assert events.order_by("-end_date").first().end_date == date(2026, 3, 31)
    for year, month in [(2025, m) for m in range(4, 13)] + [(2026, m) for m in range(1, 4)]:
        assert queries.occurrences(school.calendars.all(), *queries.month_bounds(year, month)), (year, month)
    assert list(Term.objects.filter(school=school).values_list("name", flat=True)) == ["1学期", "2学期", "3学期"]
    club = events.get(ref="R7-006")
    assert club.rrule == "FREQ=WEEKLY;UNTIL=20250716;BYDAY=WE"
    assert club.exdates == ["2025-04-30", "2025-05-07", "2025-06-18"]  # 和暦 in the 除外日 column too
    assert events.get(ref="R7-001").start_time == time(8, 30)


def test_the_csv_sample_gives_the_same_rows_as_the_excel_sample(school):
    from_xlsx = preview(school, sample.as_xlsx(), "t.xlsx").rows
    from_csv = preview(school, sample.as_csv(), "t.csv").rows
    assert [{k: v for k, v in r.items() if k != "line"} for r in from_csv] == \
           [{k: v for k, v in r.items() if k != "line"} for r in from_xlsx]


def test_the_sample_explains_every_column_on_a_second_sheet():
    workbook = load_workbook(io.BytesIO(sample.as_xlsx()))
    assert workbook.sheetnames == ["予定", "記入方法"]
    explained = [row[0] for row in workbook["記入方法"].iter_rows(min_row=2, values_only=True) if row[0]]
    assert explained[: len(importing.HEADERS)] == importing.HEADERS


def test_it_reads_wareki_dates_and_full_width_digits(school):
    batch = preview(school, xlsx([["", "全校", "行事", "始業式", "令和7年4月7日", "", "８：３０", "10時", "体育館", ""]]))
    assert batch.errors == []
    assert batch.rows[0]["start_date"] == "2025-04-07"
    assert (batch.rows[0]["start_time"], batch.rows[0]["end_time"]) == ("08:30", "10:00")


def test_it_reports_each_bad_row_in_japanese_and_applies_nothing(school):
    content = xlsx([
        ["", "全校", "行事", "始業式", "2025/4/7", "", "8:30", "10:00", "", ""],
        ["", "全校", "行事", "存在しない日", "2025年2月30日", "", "", "", "", ""],
        ["", "全校", "行事", "逆転", "2025/5/10", "2025/5/8", "", "", "", ""],
        ["", "7年", "行事", "学年がない", "2025/5/12", "", "", "", "", ""],
        ["", "1年3組", "行事", "学級がない", "2025/5/12", "", "", "", "", ""],
        ["", "全校", "行事", "始業式", "2025/4/7", "", "8:30", "10:00", "", ""],
        ["", "全校", "行事", "時刻が逆", "2025/5/13", "", "15:00", "9:00", "", ""],
        ["", "全校", "遊び", "区分が変", "2025/5/14", "", "", "", "", ""],
        ["", "全校", "行事", "", "2025/5/15", "", "", "", "", ""],
    ])
    batch = preview(school, content)
    text = "\n".join(messages(batch))
    assert "3:開始日:「2025年2月30日」という日付はありません" in text
    assert "4:終了日:終了日（5月8日）が開始日（5月10日）より前です" in text
    assert "5:対象:対象「7年」はこの学校のカレンダーにありません" in text
    assert "6:対象:対象「1年3組」はこの学校のカレンダーにありません" in text
    assert "7::2行目と対象・開始日・件名が同じ行です（重複）" in text
    assert "8:終了時刻:終了時刻（09:00）が開始時刻（15:00）より前です" in text
    assert "9:区分:区分「遊び」は使えません" in text
    assert "10:件名:件名がありません" in text
    with pytest.raises(services.ImportNotApplicable):
        services.import_apply(actor="test", batch=batch)
    assert not Event.objects.exists()
    assert ImportBatch.objects.get(pk=batch.pk).state == ImportBatch.State.PREVIEW


def test_it_refuses_merged_cells_in_the_data_but_allows_a_merged_title(school):
    rows = [["", "全校", "行事", "始業式", "2025/4/7", "", "", "", "", ""],
            ["", "全校", "行事", "入学式", "2025/4/8", "", "", "", "", ""],
            ["", "全校", "行事", "身体測定", "2025/4/9", "", "", "", "", ""]]
    ok = preview(school, xlsx(rows, title="令和7年度 年間行事予定"))
    assert ok.errors == []
    merged = preview(school, xlsx(rows, title="令和7年度 年間行事予定", merge="B3:B4"))
    assert messages(merged) == [
        "3::セルが結合されています（B3:B4）。結合を解除し、各行にそれぞれ値を入れてください。",
        "4::セルが結合されています（B3:B4）。結合を解除し、各行にそれぞれ値を入れてください。",
    ]


def test_it_refuses_a_file_over_the_size_limit(school):
    with pytest.raises(importing.FileRejected, match="ファイルが大きすぎます（20.0 MB）"):
        preview(school, b"0" * (20 * 1024 * 1024), "huge.csv")
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize("name, content, message", [
    ("old.xls", b"\xd0\xcf\x11\xe0", "古いExcel形式"),
    ("notes.pdf", b"%PDF", "Excel（.xlsx）またはCSV"),
    ("broken.xlsx", b"PK\x03\x04garbage", "Excelファイルとして読めません"),
    ("empty.csv", b"", "ファイルが空です"),
    ("noheader.csv", b"a,b,c\r\n1,2,3\r\n", "見出し行が見つかりません"),
])
def test_it_refuses_files_it_cannot_read(school, name, content, message):
    with pytest.raises(importing.FileRejected, match=message):
        preview(school, content, name)


def test_it_reads_shift_jis_csv_as_excel_saves_it(school):
    batch = preview(school, csv_bytes([["", "1年", "保護者会", "保護者会（1年）", "2025/4/18", "", "14:30", "15:30", "各教室", ""]],
                                      encoding="cp932"), "r7.csv")
    assert batch.errors == []
    assert batch.rows[0]["title"] == "保護者会（1年）"


def test_nothing_is_applied_when_a_row_fails_inside_the_transaction(school, monkeypatch):
    batch = preview(school, xlsx([["", "全校", "行事", "A", "2025/4/7", "", "", "", "", ""],
                                  ["", "全校", "行事", "B", "2025/4/8", "", "", "", "", ""]]))
    calls = {"n": 0}
    original = services.event_create

    def failing(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return original(**kwargs)

    monkeypatch.setattr(services, "event_create", failing)
    with pytest.raises(RuntimeError):
        services.import_apply(actor="test", batch=batch)
    assert not Event.objects.exists()
    assert ImportBatch.objects.get(pk=batch.pk).state == ImportBatch.State.PREVIEW


def test_reimporting_the_same_year_updates_in_place_and_bumps_sequence_only_for_changed_events(school):
    services.import_apply(actor="test", batch=preview(school, sample.as_xlsx()))
    before = {e.ref: (e.pk, e.uid, e.sequence) for e in Event.objects.filter(school=school)}
    workbook = load_workbook(io.BytesIO(sample.as_xlsx()))
    sheet = workbook["予定"]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "R7-020":  # 運動会 moves a week, keeps its ID
            row[4].value = date(2025, 5, 31)
    buffer = io.BytesIO()
    workbook.save(buffer)
    batch = preview(school, buffer.getvalue())
    applied = services.import_apply(actor="test", batch=batch)
    assert applied.summary == {"created": 0, "updated": 1, "unchanged": len(before) - 1, "cancelled_missing": 0,
                               "terms": 0}
    after = {e.ref: (e.pk, e.uid, e.sequence) for e in Event.objects.filter(school=school)}
    assert set(after) == set(before)
    assert after["R7-020"] == (before["R7-020"][0], before["R7-020"][1], before["R7-020"][2] + 1)
    assert all(after[k] == before[k] for k in before if k != "R7-020")
    sports = Event.objects.get(ref="R7-020")
    assert sports.start_date == date(2025, 5, 31)
    revision = sports.revisions.first()
    assert revision.action == EventRevision.Action.UPDATE and revision.import_batch_id == batch.pk
    assert revision.changes == {"end_date": ["2025-05-24", "2025-05-31"], "start_date": ["2025-05-24", "2025-05-31"]}


def test_without_an_id_the_same_target_date_and_title_is_the_same_event(school):
    rows = [["", "2年", "行事", "遠足（2年）", "2025/5/9", "", "8:30", "15:00", "動物園", ""]]
    services.import_apply(actor="test", batch=preview(school, xlsx(rows)))
    rows[0][8] = "井の頭自然文化園"
    batch = services.import_apply(actor="test", batch=preview(school, xlsx(rows)))
    assert batch.summary["updated"] == 1
    event = Event.objects.get()
    assert (event.location, event.sequence) == ("井の頭自然文化園", 1)


def test_a_row_that_gains_an_id_adopts_the_event_it_imported_before(school):
    rows = [["", "全校", "行事", "学芸会", "2025/10/25", "", "", "", "", ""]]
    services.import_apply(actor="test", batch=preview(school, xlsx(rows)))
    rows[0][0] = "R7-037"
    batch = services.import_apply(actor="test", batch=preview(school, xlsx(rows)))
    assert batch.summary["unchanged"] == 1
    assert Event.objects.get().ref == "R7-037"


def test_events_missing_from_a_reimport_can_be_cancelled_for_subscribers(school):
    rows = [["A1", "全校", "行事", "学芸会", "2025/10/25", "", "", "", "", ""],
            ["A2", "全校", "行事", "音楽会", "2025/11/8", "", "", "", "", ""]]
    services.import_apply(actor="test", batch=preview(school, xlsx(rows)))
    second = preview(school, xlsx(rows[:1]))
    plan = importing.plan(school, second.rows)
    assert [e.ref for e in plan.missing] == ["A2"]
    applied = services.import_apply(actor="test", batch=second, cancel_missing=True)
    assert applied.summary["cancelled_missing"] == 1
    gone = Event.objects.get(ref="A2")
    assert gone.status == Event.Status.CANCELLED and gone.sequence == 1


def test_a_row_marked_chushi_cancels_its_event(school):
    header = HEADER + ["状態"]
    services.import_apply(actor="test", batch=preview(school, xlsx(
        [["A1", "全校", "行事", "プール開放", "2025/8/1", "", "", "", "", "", ""]], header=header)))
    services.import_apply(actor="test", batch=preview(school, xlsx(
        [["A1", "全校", "行事", "プール開放", "2025/8/1", "", "", "", "", "", "中止"]], header=header)))
    event = Event.objects.get()
    assert event.status == Event.Status.CANCELLED and event.cancelled_at is not None
    assert event.revisions.first().action == EventRevision.Action.CANCEL


def test_a_batch_cannot_be_applied_twice(school):
    batch = preview(school, xlsx([["", "全校", "行事", "A", "2025/4/7", "", "", "", "", ""]]))
    services.import_apply(actor="test", batch=batch)
    with pytest.raises(services.ImportNotApplicable, match="すでに反映済み"):
        services.import_apply(actor="test", batch=batch)
    assert Event.objects.count() == 1


def test_upload_and_apply_are_audited(school):
    batch = preview(school, xlsx([["", "全校", "行事", "A", "2025/4/7", "", "", "", "", ""]]))
    services.import_apply(actor="test", batch=batch)
    actions = list(AuditEntry.objects.filter(action__startswith="calendars.").values_list("action", flat=True))
    assert "calendars.import_upload" in actions
    assert "calendars.event_create" in actions
    assert actions[-1] == "calendars.import_apply"
    last = AuditEntry.objects.filter(action="calendars.import_apply").get()
    assert last.changes["created"] == 1 and last.object_id == str(batch.pk)


def test_recurrence_columns_accept_shorthands_and_rrules(school):
    header = HEADER + ["繰り返し", "繰り返し終了日", "除外日"]
    batch = preview(school, xlsx([
        ["", "全校", "行事", "クラブ", "2025/4/16", "", "14:35", "15:20", "", "", "毎週", "2025/7/16", "2025/4/30"],
        ["", "全校", "行事", "委員会", "2025/4/9", "", "", "", "", "", "FREQ=MONTHLY;BYDAY=2WE", "", ""],
        ["", "全校", "行事", "変", "2025/4/9", "", "", "", "", "", "毎時", "", ""],
        ["", "全校", "行事", "除外だけ", "2025/4/9", "", "", "", "", "", "", "", "2025/4/10"],
    ], header=header))
    text = "\n".join(messages(batch))
    assert "4:繰り返し:繰り返し「毎時」を読めません" in text
    assert "5:除外日:除外日は繰り返しの予定にだけ指定できます" in text
    assert len(batch.errors) == 2


def test_the_weekend_column_moves_or_skips_a_repeat_and_explains_mistakes(school):
    header = HEADER + ["繰り返し", "繰り返し終了日", "除外日", "土日・祝日"]
    batch = preview(school, xlsx([
        ["D1", "全校", "行事", "避難訓練", "2025/4/15", "", "10:40", "11:00", "", "", "毎月", "2026/3/15", "", "前の平日"],
        ["D2", "全校", "行事", "読み聞かせ", "2025/4/15", "", "", "", "", "", "毎月", "2026/3/15", "", "とばす"],
        ["D3", "全校", "行事", "委員会", "2025/4/15", "", "", "", "", "", "毎月", "2026/3/15", "", "翌平日"],
        ["D4", "全校", "行事", "運動会", "2025/5/24", "", "", "", "", "", "", "", "", "次の平日"],
        ["D5", "全校", "行事", "朝会", "2025/4/14", "", "", "", "", "", "毎週", "", "", "次の平日"],
        ["D6", "全校", "行事", "清掃", "2025/4/14", "", "", "", "", "", "毎週", "2025/7/14", "", "雨天中止"],
    ], header=header))
    text = "\n".join(messages(batch))
    assert "5:土日・祝日:土日・祝日の扱いは繰り返しの予定にだけ指定できます" in text
    assert "6:土日・祝日:土日・祝日の扱いを指定するときは、繰り返し終了日（または回数）を入れてください" in text
    assert "7:土日・祝日:土日・祝日「雨天中止」は使えません（空欄・とばす・前の平日・次の平日）" in text
    assert len(batch.errors) == 3
    assert [r["off_day"] for r in batch.rows] == ["previous", "skip", "next"]


def test_the_weekend_rule_survives_an_export_and_a_reimport(school):
    batch = services.import_apply(actor="test", batch=preview(school, sample.as_xlsx(), "template.xlsx"))
    drill = Event.objects.get(school=school, ref="R7-061")
    assert drill.off_day == "previous" and drill.exdates == ["2025-08-15"]
    from hiroba.calendars import exports

    again = preview(school, exports.events_csv(Event.objects.filter(school=school)), "export.csv")
    assert again.errors == [] and next(r for r in again.rows if r["ref"] == "R7-061")["off_day"] == "previous"
    assert services.import_apply(actor="test", batch=again).summary["updated"] == 0
    assert batch.summary["created"] == len(sample.rows()) - 3
