"""Input validation for the calendar pages; services assume what these return is valid."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hiroba.calendars import importing, recurrence
from hiroba.calendars.models import Calendar, Event, School, fiscal_year_of
from hiroba.calendars.parsing import ParseError, parse_date_list
from hiroba.calendars.services import MAX_CALENDARS_PER_COMBINATION, EventData

REPEAT_CHOICES = [("", "繰り返さない"), ("weekly", "毎週（開始日と同じ曜日）"), ("biweekly", "隔週"),
                  ("monthly", "毎月（開始日と同じ日）"), ("daily", "毎日"), ("custom", "その他（RRULEで指定）")]


OFF_DAY_CHOICES = [
    (Event.OffDay.KEEP, gettext_lazy("そのまま行う")), (Event.OffDay.SKIP, gettext_lazy("行わない（とばす）")),
    (Event.OffDay.PREVIOUS, gettext_lazy("前の平日に移す")), (Event.OffDay.NEXT, gettext_lazy("次の平日に移す")),
]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)


class CalendarChoiceField(forms.ModelChoiceField):
    """A school's calendars, each shown by its label (全校, 1年, 1年1組)."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.label)


class EventForm(forms.Form):
    calendar = CalendarChoiceField(label="対象", queryset=Calendar.objects.none(), empty_label=None)
    title = forms.CharField(label="件名", max_length=200)
    category = forms.ChoiceField(label="区分", choices=Event.Category.choices)
    start_date = forms.DateField(label="開始日", widget=DateInput())
    end_date = forms.DateField(label="終了日", required=False, widget=DateInput(),
                               help_text="複数日にわたるときの最終日（その日を含む）。空欄は開始日と同じ。")
    start_time = forms.TimeField(label="開始時刻", required=False, widget=TimeInput(),
                                 help_text="空欄にすると終日の予定になります。")
    end_time = forms.TimeField(label="終了時刻", required=False, widget=TimeInput())
    location = forms.CharField(label="場所", max_length=200, required=False)
    description = forms.CharField(label="説明", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    repeat = forms.ChoiceField(label="繰り返し", choices=REPEAT_CHOICES, required=False)
    rrule = forms.CharField(label="RRULE", max_length=300, required=False,
                            help_text="「その他」のとき。例: FREQ=MONTHLY;BYDAY=2WE（毎月第2水曜日）")
    repeat_until = forms.DateField(label="繰り返し終了日", required=False, widget=DateInput())
    exdates = forms.CharField(label="除外日", required=False, widget=forms.Textarea(attrs={"rows": 2}),
                              help_text="繰り返しのうち行わない日。「、」か改行で区切ります（例: 2025/4/30、2025/5/7）。")
    off_day = forms.ChoiceField(
        label=gettext_lazy("繰り返しの日が土日・祝日に当たるとき"), choices=OFF_DAY_CHOICES, required=False,
        help_text=gettext_lazy("土曜・日曜・国民の祝日（振替休日を含む）に当たった回の扱い。"
                               "「移す」ときは、移した先も土日・祝日ならさらに前（次）の平日にします。繰り返し終了日が必要です。"),
    )
    url_label = forms.CharField(label="リンクの表示名", max_length=100, required=False)
    url = forms.URLField(label="リンクURL", max_length=500, required=False, assume_scheme="https")
    tentative = forms.BooleanField(label="仮の予定として公開する", required=False)

    def __init__(self, *args: Any, school: School, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.school = school
        field = self.fields["calendar"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = school.calendars.select_related("school").order_by("sort_order")

    @classmethod
    def initial_for(cls, event: Event) -> dict[str, Any]:
        return {
            "calendar": event.calendar_id, "title": event.title, "category": event.category,
            "start_date": event.start_date, "end_date": event.end_date if event.is_multi_day else None,
            "start_time": event.start_time, "end_time": event.end_time, "location": event.location,
            "description": event.description, "repeat": "custom" if event.rrule else "",
            "rrule": event.rrule, "exdates": "、".join(event.exdates), "off_day": event.off_day,
            "url_label": event.url_label,
            "url": event.url, "tentative": event.status == Event.Status.TENTATIVE,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start: date | None = data.get("start_date")
        end = data.get("end_date") or start
        data["end_date"] = end
        start_time, end_time = data.get("start_time"), data.get("end_time")
        if start and end and end < start:
            self.add_error("end_date", _("終了日が開始日より前です"))
        if start_time and not end_time:
            self.add_error("end_time", _("開始時刻を入れたときは終了時刻も入れてください"))
        if end_time and not start_time:
            self.add_error("start_time", _("終了時刻だけが入っています。開始時刻も入れてください"))
        if start and start == end and start_time and end_time and end_time <= start_time:
            self.add_error("end_time", _("終了時刻が開始時刻より前です"))
        repeat = data.get("repeat") or ""
        data["rule"] = ""
        if start and repeat:
            try:
                if repeat == "custom":
                    if not data.get("rrule"):
                        raise ParseError(gettext_lazy("RRULEを入れてください"), code="rrule_required")
                    data["rule"] = recurrence.parse(data["rrule"], start=start, until=data.get("repeat_until"))
                else:
                    data["rule"] = recurrence.build(repeat, start, data.get("repeat_until"))
            except ParseError as exc:
                self.add_error("rrule" if repeat == "custom" else "repeat", exc.message)
        try:
            data["exdate_list"] = parse_date_list(data.get("exdates") or "")
        except ParseError as exc:
            self.add_error("exdates", exc.message)
            data["exdate_list"] = []
        if data["exdate_list"] and not repeat:
            self.add_error("exdates", _("除外日は繰り返しの予定にだけ指定できます"))
        off_day = data.get("off_day") or ""
        if off_day and not repeat:
            self.add_error("off_day", _("土日・祝日の扱いは繰り返しの予定にだけ指定できます"))
        elif start and data["rule"]:
            try:
                recurrence.check_off_day(off_day, data["rule"], start)
            except ParseError as exc:
                self.add_error("off_day", exc.message)
        return data

    def event_data(self, *, status: str | None = None) -> EventData:
        data = self.cleaned_data
        all_day = data.get("start_time") is None
        return EventData(
            calendar=data["calendar"], title=data["title"].strip(), category=data["category"],
            start_date=data["start_date"], end_date=data["end_date"], all_day=all_day,
            start_time=None if all_day else data["start_time"], end_time=None if all_day else data["end_time"],
            location=data["location"].strip(), description=data["description"].strip(),
            rrule=data["rule"], exdates=data["exdate_list"], off_day=data.get("off_day") or "",
            url=data["url"], url_label=data["url_label"].strip(),
            status=status or (Event.Status.TENTATIVE if data["tentative"] else Event.Status.CONFIRMED),
        )


class CancelForm(forms.Form):
    reason = forms.CharField(label="中止の理由（記録用）", max_length=300, required=False)


class CalendarForm(forms.Form):
    grade = forms.TypedChoiceField(label="学年", coerce=int, choices=())
    class_name = forms.CharField(label="学級名", max_length=30, help_text="例: 1組、ひまわり学級。空欄にすると学年のカレンダーを作ります。",
                                 required=False)

    def __init__(self, *args: Any, school: School, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.school = school
        field = self.fields["grade"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(g, school.grade_label(g)) for g in range(1, school.max_grade + 1)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        grade, class_name = data.get("grade"), importing.normalize(data.get("class_name"))
        data["class_name"] = class_name
        audience = Calendar.Audience.CLASS if class_name else Calendar.Audience.GRADE
        data["audience"] = audience
        if grade and self.school.calendars.filter(audience=audience, grade=grade, class_name=class_name).exists():
            raise ValidationError(_("そのカレンダーはすでにあります"))
        return data


class TermForm(forms.Form):
    name = forms.CharField(label="学期名", max_length=30, help_text="例: 1学期、前期")
    start_date = forms.DateField(label="開始日", widget=DateInput())
    end_date = forms.DateField(label="終了日", widget=DateInput())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start_date") and data.get("end_date"):
            if data["end_date"] < data["start_date"]:
                self.add_error("end_date", _("終了日が開始日より前です"))
            elif fiscal_year_of(data["end_date"]) != fiscal_year_of(data["start_date"]):
                self.add_error("end_date", _("学期は同じ年度（4月〜翌3月）の中にしてください"))
        return data


class ImportForm(forms.Form):
    file = forms.FileField(label="取込ファイル（.xlsx または .csv）",
                           help_text=f"{importing.MAX_BYTES // 1024 // 1024} MB まで。テンプレートの見出しをそのまま使ってください。")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > importing.MAX_BYTES:
            raise ValidationError(format_lazy(
                gettext_lazy("ファイルが大きすぎます（{size} MB）。{limit} MB までのファイルにしてください。"),
                size=f"{upload.size / 1024 / 1024:.1f}", limit=importing.MAX_BYTES // 1024 // 1024,
            ))
        if not upload.name.lower().endswith((".xlsx", ".xlsm", ".csv", ".txt", ".xls")):
            raise ValidationError(_("Excel（.xlsx）またはCSV（.csv）のファイルを選んでください。"))
        return upload


class ApplyForm(forms.Form):
    cancel_missing = forms.BooleanField(
        label="このファイルにない、同じ年度の取込済みの予定を「中止」にする", required=False,
        help_text="日付を変えた行がIDなしで入っている場合などに使います。中止した予定は購読者のカレンダーから消えます。",
    )


class CombinationForm(forms.Form):
    calendars = forms.ModelMultipleChoiceField(
        label="カレンダー", queryset=Calendar.objects.filter(school__is_published=True),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "お子さんの学校・学年・学級のカレンダーを1つ以上選んでください"},
    )

    def clean_calendars(self) -> Any:
        calendars = self.cleaned_data["calendars"]
        if len(calendars) > MAX_CALENDARS_PER_COMBINATION:
            raise ValidationError(_("カレンダーは%(n)s個まで選べます") % {"n": MAX_CALENDARS_PER_COMBINATION})
        return calendars
