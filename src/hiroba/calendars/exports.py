"""CSV exports: the events in the import template's columns (edit and re-import), and the open
data CSV in the columns of the Digital Agency's 自治体標準オープンデータセット「イベント一覧」."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.conf import settings

from hiroba.calendars import recurrence
from hiroba.calendars.importing import HEADERS, OFF_DAY_LABELS
from hiroba.calendars.models import Event, School
from hiroba.core import tabular

# 自治体標準オープンデータセット「イベント一覧」の項目（この順で出力）。
OPEN_DATA_COLUMNS = [
    "都道府県コード又は市区町村コード", "NO", "都道府県名", "市区町村名", "イベント名", "イベント名_カナ",
    "イベント名_英語", "開始日", "終了日", "開始時間", "終了時間", "開始日時特記事項", "説明",
    "料金(基本)", "料金(詳細)", "連絡先名称", "連絡先電話番号", "連絡先内線番号", "主催者", "場所名称",
    "住所", "方書", "緯度", "経度", "アクセス方法", "駐車場情報", "定員", "参加申込終了日",
    "参加申込終了時間", "参加申込方法", "URL", "備考",
]

# 全国地方公共団体コード (5 digits, before the check digit) of Tokyo's 23 special wards.
TOKYO_WARDS = {
    "千代田区": "13101", "中央区": "13102", "港区": "13103", "新宿区": "13104", "文京区": "13105",
    "台東区": "13106", "墨田区": "13107", "江東区": "13108", "品川区": "13109", "目黒区": "13110",
    "大田区": "13111", "世田谷区": "13112", "渋谷区": "13113", "中野区": "13114", "杉並区": "13115",
    "豊島区": "13116", "北区": "13117", "荒川区": "13118", "板橋区": "13119", "練馬区": "13120",
    "足立区": "13121", "葛飾区": "13122", "江戸川区": "13123",
}


def with_check_digit(code5: str) -> str:
    """全国地方公共団体コード with its check digit (JIS X 0401/0402 modulus 11)."""
    total = sum(int(d) * w for d, w in zip(code5, (6, 5, 4, 3, 2), strict=True))
    return code5 + str((11 - total % 11) % 10)


def municipality() -> tuple[str, str, str]:
    """(6-digit code, prefecture, municipality) of the ward running this instance."""
    name = settings.HIROBA_MUNICIPALITY
    code = getattr(settings, "HIROBA_MUNICIPALITY_CODE", "") or (
        with_check_digit(TOKYO_WARDS[name]) if name in TOKYO_WARDS else ""
    )
    prefecture = getattr(settings, "HIROBA_PREFECTURE", "") or ("東京都" if name in TOKYO_WARDS else "")
    return code, prefecture, name


def _csv_bytes(header: list[str], rows: Iterable[list[object]]) -> bytes:
    # UTF-8 with a BOM, CRLF, and the formula guard (an event title may start with "=" or "-").
    return tabular.to_csv(tabular.Table(columns=[tabular.Column(h) for h in header], rows=rows))


def _ymd(day: date) -> str:
    return f"{day.year}/{day.month}/{day.day}"


def template_rows(events: Iterable[Event]) -> Iterable[list[object]]:
    for event in events:
        yield [
            event.ref, event.calendar.label, event.get_category_display(), event.title, _ymd(event.start_date),
            _ymd(event.end_date) if event.end_date != event.start_date else "",
            f"{event.start_time:%H:%M}" if event.start_time else "",
            f"{event.end_time:%H:%M}" if event.end_time else "",
            event.location, event.description, event.rrule, "",
            "、".join(_ymd(d) for d in event.exdate_list), OFF_DAY_LABELS[event.off_day],
            event.url_label, event.url,
            event.get_status_display() if event.status != Event.Status.CONFIRMED else "",
        ]


def events_csv(events: Iterable[Event]) -> bytes:
    """Events in the import template's columns: edit in Excel and import again to update them."""
    return _csv_bytes(HEADERS, template_rows(events))


def open_data_rows(events: Iterable[Event], *, site_url: str = "") -> Iterable[list[object]]:
    code, prefecture, city = municipality()
    for event in events:
        if event.is_cancelled:
            continue
        school: School = event.school
        last = recurrence.last_day(event.rrule, event.start_date, event.exdate_list, event.off_day) \
            if event.rrule else event.start_date
        length = event.end_date - event.start_date
        end = (last + length) if last else event.end_date
        note = recurrence.describe(event.rrule, event.off_day)
        if event.exdates:
            note += "（" + "、".join(f"{d.month}月{d.day}日" for d in event.exdate_list) + "を除く）"
        url = event.url or (site_url + school.get_absolute_url() if site_url else "")
        yield [
            code, event.pk, prefecture, city, f"{school.name} {event.title}", "", "",
            event.start_date.isoformat(), end.isoformat(),
            f"{event.start_time:%H:%M}" if event.start_time else "",
            f"{event.end_time:%H:%M}" if event.end_time else "",
            note, event.description, "", "", school.name, school.phone, "", school.name,
            event.location or school.name, school.address, "",
            school.latitude if school.latitude is not None else "",
            school.longitude if school.longitude is not None else "",
            "", "", "", "", "", "", url,
            f"対象: {event.calendar.label}／区分: {event.get_category_display()}"
            + ("／仮の予定" if event.status == Event.Status.TENTATIVE else ""),
        ]


def open_data_csv(events: Iterable[Event], *, site_url: str = "") -> bytes:
    """The 「イベント一覧」 open data CSV (cancelled events are left out)."""
    return _csv_bytes(OPEN_DATA_COLUMNS, open_data_rows(events, site_url=site_url))
