"""School calendars: schools, their calendars per audience, events, terms and family feeds.

Times are wall-clock times in Asia/Tokyo (a school day does not move with daylight saving,
and Japan has none): an event stores dates and times separately, and the feed writes them with
TZID=Asia/Tokyo. Events are never deleted, only cancelled, so that subscribed calendars learn
about the cancellation (STATUS:CANCELLED) before the event leaves the feed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hiroba.core.states import StateMachine, Transition

# Slugs used by the public URL space under /calendars/; a school may not take them.
RESERVED_SLUGS = ("my", "family", "opendata", "feeds", "static", "staff")

# How long a cancelled event stays in the feeds (as STATUS:CANCELLED) before it disappears:
# long enough for a phone that syncs rarely to see the cancellation.
CANCELLED_RETENTION = timedelta(days=60)

# Who may change a school's calendars (django-rules, on anything with the school's department_id).
CHANGE_PERMISSION = "calendars.change_school"


def fiscal_year_of(day: date) -> int:
    """The school year (年度, April to March) a day belongs to: 2025-04-01 … 2026-03-31 → 2025."""
    return day.year if day.month >= 4 else day.year - 1


class School(models.Model):
    """A ward school or kindergarten (区立小学校・中学校・幼稚園・こども園)."""

    class Kind(models.TextChoices):
        ELEMENTARY = "elementary", "小学校"
        JUNIOR_HIGH = "junior_high", "中学校"
        KINDERGARTEN = "kindergarten", "幼稚園"
        KODOMOEN = "kodomoen", "こども園"

    department = models.OneToOneField(
        "core.Department", verbose_name="所属", on_delete=models.PROTECT, related_name="school",
        help_text="この所属で担当以上の役割を持つ職員が、この学校のカレンダーを編集できます。",
    )
    slug = models.SlugField("URL名", max_length=40, unique=True)
    name = models.CharField("学校名", max_length=100)
    short_name = models.CharField("略称", max_length=30, help_text="例: 麹町小")
    kind = models.CharField("種別", max_length=20, choices=Kind.choices)
    address = models.CharField("所在地", max_length=200, blank=True)
    phone = models.CharField("電話番号", max_length=30, blank=True)
    latitude = models.DecimalField("緯度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("経度", max_digits=9, decimal_places=6, null=True, blank=True)
    website = models.URLField("ホームページ", blank=True)
    is_published = models.BooleanField("公開", default=True)
    created_at = models.DateTimeField("作成日時", default=timezone.now, editable=False)

    class Meta:
        verbose_name = "学校"
        verbose_name_plural = "学校"
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(condition=~Q(slug__in=RESERVED_SLUGS), name="school_slug_not_reserved"),
            models.CheckConstraint(
                condition=Q(kind__in=["elementary", "junior_high", "kindergarten", "kodomoen"]),
                name="school_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("calendars:school", args=[self.slug])

    @property
    def max_grade(self) -> int:
        return {"elementary": 6, "junior_high": 3, "kindergarten": 3, "kodomoen": 6}[self.kind]

    def grade_label(self, grade: int) -> str:
        if self.kind in (self.Kind.KINDERGARTEN, self.Kind.KODOMOEN):
            # Grades count up from the youngest class: こども園 0歳児 …, 幼稚園 3歳児 ….
            return f"{grade - 1}歳児" if self.kind == self.Kind.KODOMOEN else f"{grade + 2}歳児"
        return f"{grade}年"


class Calendar(models.Model):
    """One audience's calendar in a school: the whole school, a grade, or a class."""

    class Audience(models.TextChoices):
        SCHOOL = "school", "全校"
        GRADE = "grade", "学年"
        CLASS = "class", "学級"

    school = models.ForeignKey(School, verbose_name="学校", on_delete=models.PROTECT, related_name="calendars")
    audience = models.CharField("対象", max_length=10, choices=Audience.choices)
    grade = models.PositiveSmallIntegerField("学年", null=True, blank=True)
    class_name = models.CharField("学級名", max_length=30, blank=True, help_text="例: 1組、ひまわり学級")
    key = models.SlugField(
        "URL名", max_length=40,
        help_text="購読URLの一部。作成後は変えません（変えると購読が切れます）。",
    )
    sort_order = models.PositiveIntegerField("表示順", default=0)
    updated_at = models.DateTimeField("更新日時", default=timezone.now)

    class Meta:
        verbose_name = "カレンダー"
        verbose_name_plural = "カレンダー"
        ordering = ["school", "sort_order", "grade", "class_name"]
        constraints = [
            models.UniqueConstraint(fields=["school", "key"], name="calendar_key_unique_in_school"),
            models.UniqueConstraint(fields=["school"], condition=Q(audience="school"), name="one_school_wide_calendar"),
            models.UniqueConstraint(
                fields=["school", "audience", "grade", "class_name"], condition=Q(grade__isnull=False),
                name="calendar_audience_unique",
            ),
            models.CheckConstraint(
                condition=(
                    Q(audience="school", grade__isnull=True, class_name="")
                    | Q(audience="grade", grade__gte=1, grade__lte=9, class_name="")
                    | (Q(audience="class", grade__gte=1, grade__lte=9) & ~Q(class_name=""))
                ),
                name="calendar_audience_shape",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school.short_name} {self.label}"

    def get_absolute_url(self) -> str:
        return reverse("calendars:school", args=[self.school.slug]) + f"?cal={self.key}"

    @property
    def department_id(self) -> int:
        return self.school.department_id

    @property
    def label(self) -> str:
        """全校 / 1年 / 1年1組 — also the value of the 対象 column in the import template."""
        if self.audience == self.Audience.SCHOOL:
            return "全校"
        grade = self.school.grade_label(self.grade or 0)
        if self.audience == self.Audience.GRADE:
            return grade
        return f"{grade}{self.class_name}"

    @property
    def display_label(self) -> str:
        """`label` in the reader's language (全校 → Whole school); `label` itself stays the import's value."""
        if self.audience == self.Audience.SCHOOL:
            return gettext("全校")
        if self.school.kind in (School.Kind.KINDERGARTEN, School.Kind.KODOMOEN):
            grade = self.school.grade_label(self.grade or 0)
        else:
            grade = gettext("%(grade)s年") % {"grade": self.grade or 0}
        if self.audience == self.Audience.GRADE:
            return grade
        return gettext("%(grade)s%(class_name)s") % {"grade": grade, "class_name": self.class_name}

    def feed_path(self) -> str:
        return reverse("calendars:calendar_feed", args=[self.school.slug, self.key])


class Term(models.Model):
    """A 学期 of a school year (1学期, 2学期, 3学期; 前期, 後期)."""

    school = models.ForeignKey(School, verbose_name="学校", on_delete=models.PROTECT, related_name="terms")
    fiscal_year = models.PositiveSmallIntegerField("年度（西暦）")
    name = models.CharField("学期名", max_length=30)
    start_date = models.DateField("開始日")
    end_date = models.DateField("終了日")

    class Meta:
        verbose_name = "学期"
        verbose_name_plural = "学期"
        ordering = ["school", "start_date"]
        constraints = [
            models.UniqueConstraint(fields=["school", "fiscal_year", "name"], name="term_unique_per_year"),
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="term_end_not_before_start"),
        ]

    def __str__(self) -> str:
        return f"{self.school.short_name} {self.fiscal_year}年度 {self.name}"

    @property
    def department_id(self) -> int:
        return self.school.department_id


class EventQuerySet(models.QuerySet["Event"]):
    def in_feed(self, now: datetime | None = None) -> EventQuerySet:
        """Live events, and cancelled ones still inside the retention window."""
        moment = now or timezone.now()
        return self.filter(
            Q(status__in=[Event.Status.CONFIRMED, Event.Status.TENTATIVE])
            | Q(status=Event.Status.CANCELLED, cancelled_at__gt=moment - CANCELLED_RETENTION)
        )

    def live(self) -> EventQuerySet:
        return self.exclude(status=Event.Status.CANCELLED)


class Event(models.Model):
    """A dated entry in a calendar: all-day or timed (Asia/Tokyo), possibly multi-day or recurring."""

    class Category(models.TextChoices):
        EVENT = "event", "行事"
        HOLIDAY = "holiday", "休業日"
        NO_LUNCH = "no_lunch", "給食なし"
        PARENTS = "parents", "保護者会"
        HEALTH = "health", "健診"
        SHORT_DAY = "short_day", "短縮授業"
        OTHER = "other", "その他"

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "予定"
        TENTATIVE = "tentative", "仮"
        CANCELLED = "cancelled", "中止"

    class Source(models.TextChoices):
        MANUAL = "manual", "画面から入力"
        IMPORT = "import", "一括取込"

    class OffDay(models.TextChoices):
        """What a repeating event does on a Saturday, a Sunday or a public holiday."""

        KEEP = "", "そのまま行う"
        SKIP = "skip", "行わない（とばす）"
        PREVIOUS = "previous", "前の平日に移す"
        NEXT = "next", "次の平日に移す"

    calendar = models.ForeignKey(Calendar, verbose_name="カレンダー", on_delete=models.PROTECT, related_name="events")
    school = models.ForeignKey(
        School, verbose_name="学校", on_delete=models.PROTECT, related_name="events", editable=False,
        help_text="calendar.school と同じ（取込IDの一意性を学校ごとに保証するため）。",
    )
    uid = models.CharField("UID", max_length=120, unique=True, editable=False)
    ref = models.CharField(
        "取込ID", max_length=60, blank=True,
        help_text="取込テンプレートのID列。同じIDの行は再取込で同じ予定を更新します。",
    )
    title = models.CharField("件名", max_length=200)
    description = models.TextField("説明", blank=True)
    location = models.CharField("場所", max_length=200, blank=True)
    category = models.CharField("区分", max_length=20, choices=Category.choices, default=Category.EVENT)
    all_day = models.BooleanField("終日", default=True)
    start_date = models.DateField("開始日")
    end_date = models.DateField("終了日", help_text="終日の予定ではこの日を含みます。")
    start_time = models.TimeField("開始時刻", null=True, blank=True)
    end_time = models.TimeField("終了時刻", null=True, blank=True)
    rrule = models.CharField("繰り返し（RRULE）", max_length=300, blank=True)
    exdates = models.JSONField("除外日", default=list, blank=True)
    off_day = models.CharField(
        "土日・祝日に当たるとき", max_length=10, choices=OffDay.choices, default=OffDay.KEEP, blank=True,
        help_text="繰り返しの日が土曜・日曜・祝日（振替休日を含む）に当たったときの扱い。",
    )
    url = models.URLField("リンク", max_length=500, blank=True)
    url_label = models.CharField("リンクの表示名", max_length=100, blank=True)
    status = models.CharField("状態", max_length=10, choices=Status.choices, default=Status.CONFIRMED)
    cancelled_at = models.DateTimeField("中止日時", null=True, blank=True)
    sequence = models.PositiveIntegerField("改版番号（SEQUENCE）", default=0)
    source = models.CharField("登録方法", max_length=10, choices=Source.choices, default=Source.MANUAL)
    created_at = models.DateTimeField("作成日時", default=timezone.now, editable=False)
    updated_at = models.DateTimeField("更新日時", default=timezone.now)

    objects = EventQuerySet.as_manager()

    # Cancelling and restoring by hand (an import row may also set 中止 as data, see
    # services.event_update); the staff event page draws its buttons from this.
    workflow = StateMachine("status", [
        Transition("cancel", source=[Status.CONFIRMED, Status.TENTATIVE], target=Status.CANCELLED,
                   label=_("中止にする"), permission=CHANGE_PERMISSION, style="danger",
                   confirm=_("購読している家庭のカレンダーには「中止」と表示され、60日後に消えます。")),
        Transition("restore", source=[Status.CANCELLED], target=Status.CONFIRMED,
                   label=_("中止を取り消す"), permission=CHANGE_PERMISSION, style="secondary"),
    ])

    class Meta:
        verbose_name = "予定"
        verbose_name_plural = "予定"
        ordering = ["start_date", "start_time", "title"]
        indexes = [models.Index(fields=["calendar", "start_date"])]
        constraints = [
            models.UniqueConstraint(fields=["school", "ref"], condition=~Q(ref=""), name="event_ref_unique_in_school"),
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="event_end_not_before_start"),
            models.CheckConstraint(
                condition=Q(all_day=True, start_time__isnull=True, end_time__isnull=True)
                | Q(all_day=False, start_time__isnull=False, end_time__isnull=False),
                name="event_all_day_xor_times",
            ),
            models.CheckConstraint(
                condition=Q(all_day=True) | Q(end_date__gt=F("start_date")) | Q(end_time__gt=F("start_time")),
                name="event_end_time_after_start",
            ),
            models.CheckConstraint(
                condition=Q(status="cancelled", cancelled_at__isnull=False)
                | (~Q(status="cancelled") & Q(cancelled_at__isnull=True)),
                name="event_cancelled_at_iff_cancelled",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["confirmed", "tentative", "cancelled"]), name="event_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(off_day="") | (Q(off_day__in=["skip", "previous", "next"]) & ~Q(rrule="")),
                name="event_off_day_only_when_repeating",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title}（{self.start_date.isoformat()}）"

    @property
    def department_id(self) -> int:
        return self.school.department_id

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    @property
    def is_multi_day(self) -> bool:
        return self.end_date > self.start_date

    @property
    def exdate_list(self) -> list[date]:
        return [date.fromisoformat(d) for d in self.exdates]

    @property
    def fiscal_year(self) -> int:
        return fiscal_year_of(self.start_date)


class EventRevision(models.Model):
    """One change to an event as subscribers see it: the SEQUENCE it produced and what changed."""

    class Action(models.TextChoices):
        CREATE = "create", "作成"
        UPDATE = "update", "変更"
        CANCEL = "cancel", "中止"
        RESTORE = "restore", "中止の取消し"

    event = models.ForeignKey(Event, verbose_name="予定", on_delete=models.CASCADE, related_name="revisions")
    sequence = models.PositiveIntegerField("改版番号")
    action = models.CharField("操作", max_length=10, choices=Action.choices)
    changes = models.JSONField("変更内容", default=dict)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作者", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    actor_label = models.CharField("操作者（表示）", max_length=254)
    import_batch = models.ForeignKey(
        "ImportBatch", verbose_name="取込", null=True, blank=True, on_delete=models.SET_NULL, related_name="revisions",
    )
    created_at = models.DateTimeField("日時", default=timezone.now)

    class Meta:
        verbose_name = "予定の変更履歴"
        verbose_name_plural = "予定の変更履歴"
        ordering = ["event", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event.title} #{self.sequence} {self.get_action_display()}"


class ImportBatch(models.Model):
    """An uploaded Excel/CSV file: its rows as read, their errors, and whether it was applied."""

    class State(models.TextChoices):
        PREVIEW = "preview", "確認中"
        APPLIED = "applied", "反映済み"
        DISCARDED = "discarded", "破棄"

    school = models.ForeignKey(School, verbose_name="学校", on_delete=models.PROTECT, related_name="imports")
    filename = models.CharField("ファイル名", max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64)
    rows = models.JSONField("読み取った行", default=list)
    errors = models.JSONField("エラー", default=list)
    state = models.CharField("状態", max_length=10, choices=State.choices, default=State.PREVIEW)
    summary = models.JSONField("反映結果", default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="取込者", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    created_by_label = models.CharField("取込者（表示）", max_length=254)
    created_at = models.DateTimeField("取込日時", default=timezone.now)
    applied_at = models.DateTimeField("反映日時", null=True, blank=True)

    workflow = StateMachine("state", [
        Transition("apply", source=[State.PREVIEW], target=State.APPLIED, label=_("反映する"),
                   permission=CHANGE_PERMISSION),
        Transition("discard", source=[State.PREVIEW], target=State.DISCARDED, label=_("破棄する"),
                   permission=CHANGE_PERMISSION, style="secondary"),
    ])

    class Meta:
        verbose_name = "一括取込"
        verbose_name_plural = "一括取込"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="applied", applied_at__isnull=False) | (~Q(state="applied") & Q(applied_at__isnull=True)),
                name="import_applied_at_iff_applied",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school.short_name} {self.filename}"

    @property
    def department_id(self) -> int:
        return self.school.department_id

    @property
    def is_valid(self) -> bool:
        return not self.errors


class Combination(models.Model):
    """A family's set of calendars (e.g. 全校 + 2年 of one school, 全校 + 5年1組 of another).

    The token is random, so that the URL does not reveal or let anyone enumerate which
    children attend which class; the same set always maps to the same token (canonical key).
    """

    token = models.CharField("トークン", max_length=40, unique=True, editable=False)
    canonical_key = models.CharField("カレンダーIDの組", max_length=400, unique=True, editable=False)
    calendars = models.ManyToManyField(Calendar, verbose_name="カレンダー", related_name="combinations")
    created_at = models.DateTimeField("作成日時", default=timezone.now, editable=False)

    class Meta:
        verbose_name = "家庭用カレンダーの組合せ"
        verbose_name_plural = "家庭用カレンダーの組合せ"

    def __str__(self) -> str:
        return self.token

    def get_absolute_url(self) -> str:
        return reverse("calendars:combination", args=[self.token])

    def feed_path(self) -> str:
        return reverse("calendars:combination_feed", args=[self.token])
