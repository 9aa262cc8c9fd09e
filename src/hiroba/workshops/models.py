"""区民参加型ワークショップ: programmes, sessions, applications of minors, lottery, attendance, outputs."""

from __future__ import annotations

from datetime import date, datetime, time

from django.conf import settings
from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

GRADE_LABELS: dict[int, str] = {
    1: "小学1年", 2: "小学2年", 3: "小学3年", 4: "小学4年", 5: "小学5年", 6: "小学6年",
    7: "中学1年", 8: "中学2年", 9: "中学3年", 10: "高校1年", 11: "高校2年", 12: "高校3年",
}
GRADE_CHOICES = list(GRADE_LABELS.items())


def day_start(day: date) -> datetime:
    """00:00:00 JST of `day` (periods are whole days in Asia/Tokyo, both ends inclusive)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def day_end(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.max))


def grade_label(grade: int | None) -> str:
    return GRADE_LABELS.get(grade or 0, "")


class Programme(models.Model):
    """ワークショップ企画: one recruitment, its sessions and its participants."""

    class Selection(models.TextChoices):
        FIRST_COME = "first_come", "先着順"
        LOTTERY = "lottery", "抽選"

    class QuotaKind(models.TextChoices):
        NONE = "", "なし"
        GRADE = "grade", "学年"
        SCHOOL = "school", "学校"

    department = models.ForeignKey("core.Department", verbose_name="担当所属", on_delete=models.PROTECT,
                                   related_name="workshop_programmes")
    code = models.SlugField("企画コード", max_length=20, unique=True,
                            help_text="受付番号の頭に付きます（例: r7-jhs → R7-JHS-0001）")
    title = models.CharField("企画名", max_length=100)
    purpose = models.TextField("目的・内容")
    audience = models.CharField("対象（表示用）", max_length=200, blank=True,
                                help_text="例: 区内在住の中学生")
    residency_required = models.BooleanField("区内在住が条件", default=True)
    grade_min = models.PositiveSmallIntegerField("対象学年（から）", choices=GRADE_CHOICES, null=True, blank=True)
    grade_max = models.PositiveSmallIntegerField("対象学年（まで）", choices=GRADE_CHOICES, null=True, blank=True)
    age_min = models.PositiveSmallIntegerField("対象年齢（から）", null=True, blank=True)
    age_max = models.PositiveSmallIntegerField("対象年齢（まで）", null=True, blank=True)
    age_on = models.DateField("年齢の基準日", null=True, blank=True)
    capacity = models.PositiveIntegerField("定員", validators=[MinValueValidator(1)])
    waitlist_size = models.PositiveIntegerField("補欠の人数", default=5)
    applications_open_on = models.DateField("申込開始日")
    applications_close_on = models.DateField("申込締切日")
    consent_deadline = models.DateField("保護者同意の期限")
    selection_method = models.CharField("選考方法", max_length=20, choices=Selection.choices,
                                        default=Selection.LOTTERY)
    lottery_seed_rule = models.TextField(
        "抽選の乱数のもと（事前公表）", blank=True,
        help_text="抽選に使う公開値の決め方。申込受付の前に公表します（例: 抽選日の日付と公開の当せん番号）。",
    )
    quota_kind = models.CharField("優先枠の区分", max_length=10, choices=QuotaKind.choices, blank=True, default="")
    privacy_notice = models.TextField("個人情報の取扱い（未成年者向け）")
    starts_on = models.DateField("開催期間（から）")
    ends_on = models.DateField("開催期間（まで）")
    purge_on = models.DateField("個人情報の消去日", help_text="この日に申込者の個人情報を消去・匿名化します。")
    is_published = models.BooleanField("公開", default=False)
    last_receipt_seq = models.PositiveIntegerField("受付番号の通番", default=0, editable=False)
    # The programme's own call (提案募集) in the proposals module; PROTECT: a call holding the
    # workshop's proposals cannot be deleted from under it.
    proposal_call = models.ForeignKey("proposals.Call", verbose_name="提案募集", null=True, blank=True,
                                      editable=False, on_delete=models.PROTECT, related_name="+",
                                      db_column="proposal_call_id")
    outputs_submitted_at = models.DateTimeField("提案の提出日時", null=True, blank=True, editable=False)
    purged_at = models.DateTimeField("個人情報の消去日時", null=True, blank=True, editable=False)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)

    class Meta:
        verbose_name = "ワークショップ企画"
        verbose_name_plural = "ワークショップ企画"
        ordering = ["-applications_open_on", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="workshop_capacity_positive"),
            models.CheckConstraint(condition=Q(applications_close_on__gte=models.F("applications_open_on")),
                                   name="workshop_window_ordered"),
            models.CheckConstraint(condition=Q(consent_deadline__gte=models.F("applications_close_on")),
                                   name="workshop_consent_after_close"),
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="workshop_period_ordered"),
            models.CheckConstraint(condition=Q(purge_on__gt=models.F("ends_on")), name="workshop_purge_after_end"),
            models.CheckConstraint(
                condition=(Q(grade_min__isnull=False, grade_max__isnull=False, grade_min__lte=models.F("grade_max"))
                           | Q(age_min__isnull=False, age_max__isnull=False, age_on__isnull=False,
                               age_min__lte=models.F("age_max"))),
                name="workshop_audience_rule",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("workshops:detail", args=[self.code])

    @property
    def opens_at(self) -> datetime:
        return day_start(self.applications_open_on)

    @property
    def closes_at(self) -> datetime:
        return day_end(self.applications_close_on)

    @property
    def consent_closes_at(self) -> datetime:
        return day_end(self.consent_deadline)

    def is_open(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.is_published and self.opens_at <= now <= self.closes_at

    def consent_period_over(self, now: datetime | None = None) -> bool:
        return (now or timezone.now()) > self.consent_closes_at

    @property
    def grade_range_label(self) -> str:
        if self.grade_min is None or self.grade_max is None:
            return ""
        if self.grade_min == self.grade_max:
            return grade_label(self.grade_min)
        return f"{grade_label(self.grade_min)}〜{grade_label(self.grade_max)}"

    @property
    def is_purged(self) -> bool:
        return self.purged_at is not None


class Quota(models.Model):
    """優先枠: seats reserved for a group (a grade or a school), filled first in draw order."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="quotas")
    group = models.CharField("区分", max_length=100)
    seats = models.PositiveIntegerField("枠の人数", validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = "優先枠"
        verbose_name_plural = "優先枠"
        ordering = ["group"]
        constraints = [models.UniqueConstraint(fields=["programme", "group"], name="workshop_quota_unique")]

    def __str__(self) -> str:
        return f"{self.group}: {self.seats}"


class Session(models.Model):
    """開催回: one meeting of the workshop."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="sessions")
    number = models.PositiveSmallIntegerField("回", validators=[MinValueValidator(1)])
    title = models.CharField("テーマ", max_length=200)
    starts_at = models.DateTimeField("開始")
    ends_at = models.DateTimeField("終了")
    place = models.CharField("会場", max_length=200, blank=True)
    online_url = models.URLField("オンライン参加のURL", blank=True)
    agenda = models.TextField("内容（予定）", blank=True)
    materials = models.TextField("資料", blank=True, help_text="1行に1つ（資料名とURLなど）")
    notes = models.TextField("記録・メモ（職員用）", blank=True,
                             help_text="参加者の氏名など個人情報は書かないでください。")

    class Meta:
        verbose_name = "開催回"
        verbose_name_plural = "開催回"
        ordering = ["programme", "number"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "number"], name="workshop_session_number_unique"),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="workshop_session_ordered"),
            models.CheckConstraint(condition=~Q(place="", online_url=""), name="workshop_session_has_place"),
        ]

    def __str__(self) -> str:
        return f"第{self.number}回 {self.title}"

    def material_lines(self) -> list[str]:
        return [line.strip() for line in self.materials.splitlines() if line.strip()]


class ApplicationQuerySet(models.QuerySet["Application"]):
    def counted(self) -> ApplicationQuerySet:
        """Applications that count: the guardian has consented."""
        return self.exclude(status__in=[Application.Status.AWAITING_CONSENT, Application.Status.LAPSED])


class Application(models.Model):
    """申込: a student's application, counted once their guardian has confirmed by e-mail."""

    class Status(models.TextChoices):
        AWAITING_CONSENT = "awaiting_consent", "保護者の同意待ち"
        CONFIRMED = "confirmed", "受付完了（選考待ち）"
        LAPSED = "lapsed", "同意期限切れ"
        SELECTED = "selected", "参加決定"
        WAITLISTED = "waitlisted", "補欠"
        NOT_SELECTED = "not_selected", "落選"
        WITHDRAWN = "withdrawn", "辞退"

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="applications")
    receipt_number = models.CharField("受付番号", max_length=32, unique=True)
    status = models.CharField("状態", max_length=20, choices=Status.choices, default=Status.AWAITING_CONSENT)
    student_name = models.CharField("氏名", max_length=100)
    student_kana = models.CharField("氏名（ふりがな）", max_length=100)
    kana_key = models.CharField("氏名の照合キー", max_length=100, db_index=True)
    birth_date = models.DateField("生年月日", null=True, blank=True)
    school_name = models.CharField("学校名", max_length=100)
    school_key = models.CharField("学校名の照合キー", max_length=100)
    grade = models.PositiveSmallIntegerField("学年", choices=GRADE_CHOICES,
                                             validators=[MinValueValidator(1), MaxValueValidator(12)])
    lives_in_ward = models.BooleanField("区内在住", default=False)
    address = models.CharField("住所", max_length=200, blank=True)
    student_email = models.EmailField("本人のメールアドレス", blank=True)
    student_phone = models.CharField("本人の電話番号", max_length=20, blank=True)
    guardian_name = models.CharField("保護者の氏名", max_length=100)
    guardian_relationship = models.CharField("続柄", max_length=20, blank=True)
    guardian_email = models.EmailField("保護者のメールアドレス")
    guardian_phone = models.CharField("保護者の電話番号", max_length=20, blank=True)
    interests = models.TextField("興味のあること", blank=True)
    accessibility_needs = models.TextField("配慮が必要なこと", blank=True)
    submitted_at = models.DateTimeField("申込日時", default=timezone.now)
    consent_nonce = models.CharField(max_length=32, blank=True, editable=False)
    consent_sent_at = models.DateTimeField("同意依頼の送信日時", null=True, blank=True)
    consented_at = models.DateTimeField("保護者の同意日時", null=True, blank=True)
    consented_by_name = models.CharField("同意した保護者の氏名", max_length=100, blank=True)
    in_lottery = models.BooleanField("抽選の対象", default=False)
    lottery_rank = models.PositiveIntegerField("抽選順位", null=True, blank=True)
    waitlist_rank = models.PositiveIntegerField("補欠順位", null=True, blank=True)
    withdrawn_at = models.DateTimeField("辞退日時", null=True, blank=True)
    withdrawal_reason = models.CharField("辞退の理由", max_length=200, blank=True)
    anonymised_at = models.DateTimeField("匿名化日時", null=True, blank=True)

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = "申込"
        verbose_name_plural = "申込"
        ordering = ["programme", "receipt_number"]
        constraints = [
            # The same student (name in kana and birth date) applies once per programme.
            models.UniqueConstraint(fields=["programme", "kana_key", "birth_date"],
                                    condition=Q(anonymised_at__isnull=True),
                                    name="workshop_one_application_per_student"),
            models.CheckConstraint(
                condition=Q(status__in=["awaiting_consent", "confirmed", "lapsed", "selected", "waitlisted",
                                        "not_selected", "withdrawn"]),
                name="workshop_application_status_valid"),
            models.CheckConstraint(condition=Q(waitlist_rank__isnull=True) | Q(status="waitlisted"),
                                   name="workshop_waitlist_rank_only_when_waitlisted"),
            models.CheckConstraint(condition=Q(consented_at__isnull=False) | Q(status__in=[
                "awaiting_consent", "lapsed", "withdrawn"]), name="workshop_counted_only_with_consent"),
        ]

    def __str__(self) -> str:
        return self.receipt_number

    @property
    def grade_label(self) -> str:
        return grade_label(self.grade)

    def quota_group(self) -> str:
        kind = self.programme.quota_kind
        if kind == Programme.QuotaKind.GRADE:
            return self.grade_label
        if kind == Programme.QuotaKind.SCHOOL:
            return self.school_key
        return ""


class LotteryDraw(models.Model):
    """抽選: the published inputs (public value, seed, entry list) and, once drawn, the result."""

    programme = models.OneToOneField(Programme, on_delete=models.PROTECT, related_name="lottery")
    algorithm = models.CharField("方式", max_length=40)
    public_value = models.TextField("公開値")
    seed = models.CharField("シード（公開値のSHA-256）", max_length=64)
    entries_text = models.TextField("抽選対象の受付番号一覧")
    entries_digest = models.CharField("一覧のSHA-256", max_length=64)
    capacity = models.PositiveIntegerField("定員")
    waitlist_size = models.PositiveIntegerField("補欠の人数")
    quotas = models.JSONField("優先枠", default=dict, blank=True)
    published_at = models.DateTimeField("公開日時")
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    drawn_at = models.DateTimeField("抽選日時", null=True, blank=True)
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    result = models.JSONField("結果", default=dict, blank=True)

    class Meta:
        verbose_name = "抽選"
        verbose_name_plural = "抽選"

    def __str__(self) -> str:
        return f"{self.programme} の抽選"

    @property
    def is_drawn(self) -> bool:
        return self.drawn_at is not None


class Attendance(models.Model):
    """出欠: one participant at one session, ticked by staff."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendances")
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="attendances")
    present = models.BooleanField("出席", default=False)
    recorded_at = models.DateTimeField("記録日時", default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        verbose_name = "出欠"
        verbose_name_plural = "出欠"
        constraints = [models.UniqueConstraint(fields=["session", "application"], name="workshop_attendance_once")]

    def __str__(self) -> str:
        return f"{self.session} {self.application} {'出席' if self.present else '欠席'}"


def _slides_path(instance: Output, filename: str) -> str:
    return f"workshops/{instance.programme.code}/outputs/{filename}"


class Output(models.Model):
    """成果物: an idea (with slides) the participants worked out; submitted as a proposal at the end."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="outputs")
    # Lengths follow the proposals module's limits, so an output always fits a proposal.
    title = models.CharField("タイトル", max_length=80)
    team_label = models.CharField("提案者の表示名", max_length=40,
                                  help_text="例: Aグループ（参加者の氏名は書かないでください）")
    problem = models.TextField("課題（困っていること）", max_length=2000)
    idea = models.TextField("アイデア（デジタルでどう解決するか）", max_length=4000)
    beneficiaries = models.TextField("だれのためになるか", max_length=1000)
    slides = models.FileField("スライド", upload_to=_slides_path, blank=True,
                              validators=[FileExtensionValidator(["pdf", "pptx", "odp", "key"])])
    created_at = models.DateTimeField("登録日時", auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    proposal = models.ForeignKey("proposals.Proposal", verbose_name="提案", null=True, blank=True, editable=False,
                                 on_delete=models.PROTECT, related_name="+", db_column="proposal_id")
    submitted_at = models.DateTimeField("提出日時", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "成果物"
        verbose_name_plural = "成果物"
        ordering = ["programme", "created_at", "pk"]

    def __str__(self) -> str:
        return self.title
