"""パブリックコメント: cases (案件), the draft's sections, submissions, items, answers, approval.

Originals are immutable: a `Submission` row is written once and never changed except for its
identity-confirmation status; everything staff do (items, answers, masks) lives in separate
records. Every write goes through `services` (a package, one module per noun).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from hiroba.accounts.models import IdentityLevel, Relationship


class Channel(models.TextChoices):
    HAND = "hand", "持参"
    POST = "post", "郵送"
    FAX = "fax", "ファクス"
    EMAIL = "email", "電子メール"
    WEB = "web", "ウェブフォーム"
    UNKNOWN = "unknown", "不明（移行データ）"


STAFF_CHANNELS = [Channel.HAND, Channel.POST, Channel.FAX, Channel.EMAIL]


class Category(models.TextChoices):
    """Who sent an opinion: the ward's relationships (accounts.Relationship), then the others."""

    RESIDENT = Relationship.RESIDENT.value, Relationship.RESIDENT.label
    WORKER = Relationship.WORKER.value, Relationship.WORKER.label
    STUDENT = Relationship.STUDENT.value, Relationship.STUDENT.label
    BUSINESS = "business", "事業者"
    STAKEHOLDER = "stakeholder", "利害関係者"
    OTHER = "other", "その他"


class ExcludeCategory(models.TextChoices):
    """Why an opinion is not published (公表しない意見の理由の区分), as the results page counts them."""

    UNRELATED = "unrelated", "案件に関係のない意見"
    DEFAMATION = "defamation", "個人や団体を誹謗中傷する内容を含む意見"
    PRIVACY = "privacy", "個人情報や権利利益を害するおそれのある内容を含む意見"
    PUBLIC_ORDER = "public_order", "公序良俗に反する内容を含む意見"
    OTHER = "other", "その他"


class Reflection(models.TextChoices):
    REFLECTED = "reflected", "反映"
    ALREADY = "already", "既に記載"
    REFERENCE = "reference", "参考"
    OTHER = "other", "その他"


class Case(models.Model):
    """A 案件: one draft put out for public comment, from preparation to published results."""

    class State(models.TextChoices):
        PREPARING = "preparing", "準備中"
        OPEN = "open", "募集中"
        TALLYING = "tallying", "集計中"
        ANSWERING = "answering", "回答作成中"
        APPROVING = "approving", "決裁中"
        PUBLISHED = "published", "公表済"

    slug = models.SlugField("識別子", max_length=80, unique=True)
    title = models.CharField("件名", max_length=200)
    municipality = models.CharField("自治体", max_length=50, blank=True)
    department = models.ForeignKey(
        "core.Department", verbose_name="担当所属", on_delete=models.PROTECT, related_name="consultation_cases"
    )
    legal_basis = models.CharField("根拠（要綱・条例）", max_length=200, blank=True)
    summary = models.TextField("案件の概要", blank=True)
    draft_pdf = models.FileField("案（PDF）", upload_to="consultations/drafts/", blank=True)
    period_start = models.DateField("募集開始日")
    period_end = models.DateField("募集終了日")
    short_period_reason = models.TextField("募集期間が短い理由", blank=True)
    channels = models.JSONField("提出方法", default=list)
    channel_names = models.JSONField("提出方法の表記", default=dict, blank=True)
    announced_in = models.JSONField("周知方法", default=list, blank=True)
    eligibility = models.JSONField("提出できる方", default=list, blank=True)  # Category codes
    identity_level = models.CharField(
        "本人確認の水準", max_length=10, choices=IdentityLevel.choices, default=IdentityLevel.NONE
    )
    proof_of_work = models.BooleanField(
        "送信前の自動確認（大量送信対策）", default=False,
        help_text="大量の機械的な送信を受けたときに有効にします。ウェブの送信の前に、端末が数秒の計算で確認します。",
    )
    receipt_code = models.CharField("受付番号の記号", max_length=10, default="PC")
    next_receipt_seq = models.PositiveIntegerField("次の受付番号", default=1)
    state = models.CharField("状態", max_length=12, choices=State.choices, default=State.PREPARING)
    declared_submitters = models.PositiveIntegerField(
        "提出者数（移行データ）", null=True, blank=True,
        help_text="過去の案件を移行したときに、資料に記載された提出者数。",
    )
    reported_on = models.DateField("公表日", null=True, blank=True)
    published_at = models.DateTimeField("公表日時", null=True, blank=True)
    # Where paper, fax and e-mail go (stated on the draft page for every channel the case takes).
    submit_address = models.TextField("郵送先・持参先（住所と宛先）", blank=True,
                                      help_text="例：〒102-8688 千代田区九段南1-2-1 千代田区役所 政策経営部デジタル政策課")
    hand_in_place = models.CharField("持参の窓口", max_length=200, blank=True,
                                     help_text="例：区役所4階 デジタル政策課窓口")
    hand_in_hours = models.CharField("持参の受付時間", max_length=200, blank=True,
                                     help_text="例：平日 8時30分～17時15分（土日祝日を除く）")
    fax_number = models.CharField("ファクス番号", max_length=30, blank=True)
    email_address = models.EmailField("意見の送付先メールアドレス", blank=True)
    results_due_on = models.DateField("結果の公表予定日", null=True, blank=True)
    closed_on = models.DateField("受付を終了した日（予定より早く終了した場合）", null=True, blank=True)
    close_reason = models.TextField("受付を早く終了した理由", blank=True)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    class Meta:
        verbose_name = "案件"
        verbose_name_plural = "案件"
        ordering = ["-period_start", "slug"]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="case_period_order"),
            models.CheckConstraint(
                condition=Q(state__in=["preparing", "open", "tallying", "answering", "approving", "published"]),
                name="case_state_valid",
            ),
            models.CheckConstraint(condition=Q(identity_level__in=["none", "email", "verified"]),
                                   name="case_identity_level_valid"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("consultations:detail", args=[self.slug])

    @property
    def opens_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.period_start, time.min))

    @property
    def closes_at(self) -> datetime:
        """The last instant of the last day (JST), inclusive."""
        return timezone.make_aware(datetime.combine(self.period_end, time.max))

    @property
    def period_days(self) -> int:
        return (self.period_end - self.period_start).days + 1

    @property
    def last_day(self) -> date:
        """The last day opinions were (or are) taken: the day it closed when closed early."""
        return self.closed_on if self.closed_on and self.closed_on < self.period_end else self.period_end

    @property
    def closed_early(self) -> bool:
        return self.last_day < self.period_end

    def accepts_at(self, moment: datetime) -> bool:
        return self.state == self.State.OPEN and self.opens_at <= moment <= self.closes_at

    @property
    def is_open(self) -> bool:
        return self.accepts_at(timezone.now())

    def channel_label(self, code: str) -> str:
        return self.channel_names.get(code) or Channel(code).label

    @property
    def channel_labels(self) -> list[str]:
        return [self.channel_label(code) for code in self.channels]

    @property
    def eligibility_labels(self) -> list[str]:
        """提出できる方, as the labels of the stored Category codes (in the page's language)."""
        return [str(Category(code).label) for code in self.eligibility if code in Category.values]

    @property
    def answers_locked(self) -> bool:
        """The published table is frozen: in approval, or published (until a 差戻し or 訂正)."""
        return self.state in TABLE_LOCKED_STATES

    @property
    def is_closed(self) -> bool:
        """No longer taking opinions, results not (yet) published."""
        return self.state in (self.State.TALLYING, self.State.ANSWERING, self.State.APPROVING)

    @property
    def paper_channels(self) -> list[str]:
        return [c for c in self.channels if c in (Channel.HAND, Channel.POST, Channel.FAX, Channel.EMAIL)]


TABLE_LOCKED_STATES = (Case.State.APPROVING, Case.State.PUBLISHED)


class Section(models.Model):
    """A heading of the draft (該当箇所) with its text; sections nest (章 → 節)."""

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.CASCADE, related_name="sections")
    parent = models.ForeignKey("self", verbose_name="上位の箇所", null=True, blank=True,
                               on_delete=models.CASCADE, related_name="children")
    number = models.CharField("番号", max_length=20, blank=True)
    heading = models.CharField("見出し", max_length=200)
    body = models.TextField("本文", blank=True)
    page = models.PositiveIntegerField("ページ", null=True, blank=True)
    position = models.PositiveIntegerField("表示順", default=0)

    class Meta:
        verbose_name = "該当箇所"
        verbose_name_plural = "該当箇所"
        ordering = ["case", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "heading"], name="section_heading_unique_per_case")]

    def __str__(self) -> str:
        return f"{self.number} {self.heading}".strip()

    @property
    def depth(self) -> int:
        depth, node = 0, self.parent
        while node is not None and depth < 10:
            depth, node = depth + 1, node.parent
        return depth


class SubmissionQuerySet(models.QuerySet["Submission"]):
    def counted(self) -> SubmissionQuerySet:
        """Submissions that count: identity confirmed where the case required it."""
        return self.filter(identity_status__in=[Submission.IdentityStatus.NOT_REQUIRED,
                                                Submission.IdentityStatus.CONFIRMED,
                                                Submission.IdentityStatus.VERIFIED])


class Submission(models.Model):
    """One resident's submission (提出), exactly as received. Never edited after it is stored."""

    class IdentityStatus(models.TextChoices):
        NOT_REQUIRED = "not_required", "確認不要"
        PENDING = "pending", "メール確認待ち"
        CONFIRMED = "confirmed", "メール確認済み"
        VERIFIED = "verified", "本人確認済み"

    MUTABLE_FIELDS = frozenset({"identity_status", "confirmed_at"})

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.PROTECT, related_name="submissions")
    receipt_seq = models.PositiveIntegerField("受付通番")
    receipt_number = models.CharField("受付番号", max_length=40, db_index=True)
    idempotency_key = models.CharField("再送識別子", max_length=64, unique=True)
    channel = models.CharField("提出方法", max_length=10, choices=Channel.choices)
    received_at = models.DateTimeField("受付日時")
    postmark_date = models.DateField("消印日", null=True, blank=True)
    name = models.CharField("氏名", max_length=100, blank=True)
    address = models.CharField("住所", max_length=200, blank=True)
    category = models.CharField("区分", max_length=12, choices=Category.choices, blank=True)
    email = models.EmailField("メールアドレス", blank=True)
    phone = models.CharField("電話番号", max_length=30, blank=True)
    text = models.TextField("意見")
    section = models.ForeignKey(Section, verbose_name="該当箇所", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="submissions")
    original_file = models.FileField("原本・添付ファイル", upload_to="consultations/originals/%Y/%m/", blank=True)
    original_name = models.CharField("ファイル名", max_length=200, blank=True)
    original_type = models.CharField("ファイル形式", max_length=50, blank=True)
    identity_status = models.CharField("本人確認", max_length=12, choices=IdentityStatus.choices,
                                       default=IdentityStatus.NOT_REQUIRED)
    confirm_token_hash = models.CharField("確認用トークンのハッシュ", max_length=64, blank=True, db_index=True)
    confirmed_at = models.DateTimeField("確認日時", null=True, blank=True)
    verified_by = models.CharField("本人確認の方法", max_length=50, blank=True)
    verified_subject = models.CharField("本人確認の識別子（ハッシュ）", max_length=64, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="入力した職員", null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+")
    external_key = models.CharField("移行元の提出キー", max_length=100, blank=True)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        verbose_name = "提出された意見"
        verbose_name_plural = "提出された意見"
        ordering = ["case", "receipt_seq"]
        constraints = [
            models.UniqueConstraint(fields=["case", "receipt_seq"], name="submission_seq_unique_per_case"),
            models.UniqueConstraint(fields=["case", "receipt_number"], name="submission_number_unique_per_case"),
            models.CheckConstraint(condition=Q(channel__in=[c.value for c in Channel]), name="submission_channel_valid"),
            models.CheckConstraint(condition=~Q(text=""), name="submission_text_not_empty"),
        ]

    def __str__(self) -> str:
        return self.receipt_number

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            fields = set(kwargs.get("update_fields") or ())
            if not fields or not fields <= self.MUTABLE_FIELDS:
                raise PermissionError("提出された意見の原本は変更できません (submissions are immutable)")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("提出された意見の原本は削除できません (submissions are never deleted)")

    @property
    def is_counted(self) -> bool:
        return self.identity_status != self.IdentityStatus.PENDING

    @property
    def channel_label(self) -> str:
        return self.case.channel_label(self.channel)


class Answer(models.Model):
    """区の考え方: one answer, for one item or for several same-intent items (同趣旨の意見)."""

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.CASCADE, related_name="answers")
    text = models.TextField("区の考え方")
    version = models.PositiveIntegerField("版", default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="更新者", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    class Meta:
        verbose_name = "回答"
        verbose_name_plural = "回答"
        ordering = ["case", "id"]

    def __str__(self) -> str:
        return self.text[:40]


class AnswerVersion(models.Model):
    """Every text an answer has had: approval rounds point at versions, not at live text."""

    answer = models.ForeignKey(Answer, verbose_name="回答", on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField("版")
    text = models.TextField("区の考え方")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="作成者", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("作成日時", default=timezone.now)

    class Meta:
        verbose_name = "回答の版"
        verbose_name_plural = "回答の版"
        ordering = ["answer", "version"]
        constraints = [models.UniqueConstraint(fields=["answer", "version"], name="answer_version_unique")]

    def __str__(self) -> str:
        return f"{self.answer_id} 第{self.version}版"


class Item(models.Model):
    """One opinion item (意見) cut from a submission: a span of its text or a re-typed excerpt."""

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.CASCADE, related_name="items")
    submission = models.ForeignKey(Submission, verbose_name="提出された意見", on_delete=models.PROTECT,
                                   related_name="items")
    number = models.PositiveIntegerField("番号")
    text = models.TextField("意見内容")
    span_start = models.PositiveIntegerField("原文の開始位置", null=True, blank=True)
    span_end = models.PositiveIntegerField("原文の終了位置", null=True, blank=True)
    sections = models.ManyToManyField(Section, verbose_name="該当箇所", blank=True, related_name="items")
    section_label = models.CharField("該当箇所（表記）", max_length=200, blank=True,
                                     help_text="資料に印字された表記。空なら該当箇所の見出しを並べます。")
    summary = models.TextField("意見の要旨", blank=True)
    reflection = models.CharField("反映区分", max_length=10, choices=Reflection.choices, blank=True)
    answer = models.ForeignKey(Answer, verbose_name="回答", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="items")
    excluded = models.BooleanField("対象外", default=False)
    exclude_reason = models.TextField("対象外の理由", blank=True)
    exclude_category = models.CharField("対象外の理由の区分", max_length=12, choices=ExcludeCategory.choices,
                                        blank=True)
    withdrawn = models.BooleanField("取下げ", default=False)
    withdraw_reason = models.TextField("取下げの理由", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="作成者", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("作成日時", default=timezone.now)
    represented_by = models.ForeignKey(
        "self", verbose_name="同一の意見として公表する行", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="represents",
        help_text="同一の意見（一斉送信の同文など）を一つの行で公表するとき、その行の意見。",
    )

    class Meta:
        verbose_name = "意見（項目）"
        verbose_name_plural = "意見（項目）"
        ordering = ["case", "number"]
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], name="item_number_unique_per_case"),
            models.CheckConstraint(condition=Q(excluded=False) | ~Q(exclude_reason=""), name="item_excluded_has_reason"),
            models.CheckConstraint(condition=Q(withdrawn=False) | ~Q(withdraw_reason=""), name="item_withdrawn_has_reason"),
            models.CheckConstraint(
                condition=Q(span_start__isnull=True, span_end__isnull=True)
                | Q(span_start__isnull=False, span_end__gt=models.F("span_start")),
                name="item_span_valid",
            ),
            models.CheckConstraint(condition=~Q(text=""), name="item_text_not_empty"),
        ]

    def __str__(self) -> str:
        return f"No.{self.number}"

    @property
    def is_published(self) -> bool:
        return not (self.excluded or self.withdrawn)

    @property
    def display_section(self) -> str:
        if self.section_label:
            return self.section_label
        return "、".join(s.heading for s in self.sections.all())


class StandardAnswer(models.Model):
    """定型回答: a reusable answer text staff insert and then edit."""

    title = models.CharField("名称", max_length=100)
    text = models.TextField("本文")
    department = models.ForeignKey("core.Department", verbose_name="所属（空なら全庁）", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField("有効", default=True)

    class Meta:
        verbose_name = "定型回答"
        verbose_name_plural = "定型回答"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title


class Routing(models.Model):
    """An item shared with another department (担当部署に共有) to answer or note by a due date."""

    class State(models.TextChoices):
        OPEN = "open", "対応中"
        DONE = "done", "回答済"

    item = models.ForeignKey(Item, verbose_name="意見", on_delete=models.CASCADE, related_name="routings")
    department = models.ForeignKey("core.Department", verbose_name="共有先の所属", on_delete=models.PROTECT,
                                   related_name="consultation_routings")
    due_date = models.DateField("期限")
    note = models.TextField("依頼内容", blank=True)
    state = models.CharField("状態", max_length=6, choices=State.choices, default=State.OPEN)
    response = models.TextField("所属からの回答", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="依頼者", null=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("依頼日時", default=timezone.now)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="回答者", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    done_at = models.DateTimeField("回答日時", null=True, blank=True)

    class Meta:
        verbose_name = "担当部署への共有"
        verbose_name_plural = "担当部署への共有"
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "department"], condition=Q(state="open"),
                                    name="routing_one_open_per_department"),
        ]

    def __str__(self) -> str:
        return f"{self.item} → {self.department}"

    @property
    def is_overdue(self) -> bool:
        return self.state == self.State.OPEN and self.due_date < timezone.localdate()


class ApprovalStep(models.Model):
    """One level of a case's 決裁 route (e.g. 係長 → 課長 → 部長) and who may decide at it: the
    named staff if any, otherwise anyone holding `role` on `department` (the case's own when
    empty). A case without steps has the default route: one step, 承認 on the case's department."""

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.CASCADE, related_name="approval_steps")
    position = models.PositiveIntegerField("順番")
    label = models.CharField("段階の名称", max_length=50)
    department = models.ForeignKey("core.Department", verbose_name="決裁する所属（空なら担当所属）", null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+")
    role = models.PositiveSmallIntegerField("必要な役割", default=30)  # accounts.Role.APPROVE
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name="決裁する職員（指名）", blank=True,
                                   related_name="+")

    class Meta:
        verbose_name = "決裁の段階"
        verbose_name_plural = "決裁の段階"
        ordering = ["case", "position"]
        constraints = [models.UniqueConstraint(fields=["case", "position"], name="approval_step_unique")]

    def __str__(self) -> str:
        return f"{self.case} {self.position}. {self.label}"


class ApprovalRound(models.Model):
    """決裁: one round of approval over the whole published table, step by step along the route.

    `table` is the exact publication the round approves (every row, text with masks applied,
    answer, count) and `digest` its SHA-256; `case_publish` publishes only if the live table
    still has that digest. `route` is the case's route as it stood when the round was requested;
    `step` the index of the step awaiting a decision.
    """

    class State(models.TextChoices):
        PENDING = "pending", "決裁待ち"
        APPROVED = "approved", "承認"
        RETURNED = "returned", "差戻し"

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.CASCADE, related_name="approval_rounds")
    number = models.PositiveIntegerField("回")
    state = models.CharField("状態", max_length=10, choices=State.choices, default=State.PENDING)
    snapshot = models.JSONField("決裁対象", default=dict)
    route = models.JSONField("決裁の経路", default=list)
    step = models.PositiveIntegerField("決裁中の段階", default=0)
    digest = models.CharField("承認する公表内容のSHA-256", max_length=64, blank=True)
    table = models.JSONField("承認する公表内容", default=dict)
    correction_note = models.TextField("訂正の内容（公表する記載）", blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="起案者", null=True,
                                     on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField("起案日時", default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="決裁者", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField("決裁日時", null=True, blank=True)
    comment = models.TextField("コメント", blank=True)

    class Meta:
        verbose_name = "決裁"
        verbose_name_plural = "決裁"
        ordering = ["case", "number"]
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], name="approval_round_unique"),
            models.UniqueConstraint(fields=["case"], condition=Q(state="pending"), name="approval_one_pending"),
        ]

    def __str__(self) -> str:
        return f"第{self.number}回 決裁（{self.get_state_display()}）"

    @property
    def current_step(self) -> dict[str, Any] | None:
        if self.state != self.State.PENDING or self.step >= len(self.route):
            return None
        return self.route[self.step]

    @property
    def is_correction(self) -> bool:
        return bool(self.correction_note)


class ApprovalDecision(models.Model):
    """One step's decision in a round (承認 or 差戻し), with who, when and why. Append-only."""

    class Decision(models.TextChoices):
        APPROVE = "approve", "承認"
        RETURN = "return", "差戻し"

    round = models.ForeignKey(ApprovalRound, verbose_name="決裁", on_delete=models.PROTECT, related_name="decisions")
    step = models.PositiveIntegerField("段階")
    label = models.CharField("段階の名称", max_length=50)
    decision = models.CharField("判断", max_length=8, choices=Decision.choices)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="決裁者", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField("決裁日時", default=timezone.now)
    comment = models.TextField("コメント", blank=True)

    class Meta:
        verbose_name = "決裁の記録"
        verbose_name_plural = "決裁の記録"
        ordering = ["round", "step"]
        constraints = [
            models.UniqueConstraint(fields=["round", "step"], name="approval_decision_one_per_step"),
            models.CheckConstraint(condition=Q(decision__in=["approve", "return"]), name="approval_decision_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.round} {self.label} {self.get_decision_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("決裁の記録は変更できません (approval decisions are append-only)")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("決裁の記録は削除できません (approval decisions are append-only)")


class PublishedResult(models.Model):
    """What was published, exactly as published: one row per version (第1版, then one per 訂正).

    `canonical_json` is the whole publication (every row and count, the version, the date, the
    訂正 notes) as canonical JSON; `digest` is the SHA-256 of the table part, the same digest the
    approval round approved. The results page is rendered from it and every download is served
    from the bytes stored beside it (`PublishedFile`) — never from the live rows. Rows are never
    updated or deleted (refused here and by database triggers, migration 0005).
    """

    class Source(models.TextChoices):
        APPROVAL = "approval", "決裁を経て公表"
        IMPORT = "import", "過去の公表資料の移行"

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.PROTECT, related_name="published_results")
    version = models.PositiveIntegerField("版")
    source = models.CharField("経緯", max_length=10, choices=Source.choices, default=Source.APPROVAL)
    approval_round = models.ForeignKey(ApprovalRound, verbose_name="決裁", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="published_results")
    digest = models.CharField("公表内容のSHA-256", max_length=64)
    canonical_json = models.TextField("公表内容（正規化JSON）")
    reported_on = models.DateField("公表日（訂正の場合は訂正日）")
    correction_note = models.TextField("訂正の内容", blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="公表した職員", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField("公表日時", default=timezone.now)

    class Meta:
        verbose_name = "公表した結果"
        verbose_name_plural = "公表した結果"
        ordering = ["case", "version"]
        constraints = [
            models.UniqueConstraint(fields=["case", "version"], name="published_result_version_unique"),
            models.CheckConstraint(condition=Q(version__gte=1), name="published_result_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.case} 第{self.version}版"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("公表した結果は変更できません (published results are immutable)")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("公表した結果は削除できません (published results are immutable)")

    @property
    def data(self) -> dict[str, Any]:
        import json

        return json.loads(self.canonical_json)

    @property
    def is_correction(self) -> bool:
        return self.version > 1


class PublishedFile(models.Model):
    """One download of a published version (HTML, CSV, Excel, PDF, JSON, open-data CSV), as the
    bytes rendered at publication. Never updated or deleted."""

    result = models.ForeignKey(PublishedResult, verbose_name="公表した結果", on_delete=models.PROTECT,
                               related_name="files")
    format = models.CharField("形式", max_length=20)
    content = models.BinaryField("内容")
    sha256 = models.CharField("SHA-256", max_length=64)

    class Meta:
        verbose_name = "公表したファイル"
        verbose_name_plural = "公表したファイル"
        ordering = ["result", "format"]
        constraints = [models.UniqueConstraint(fields=["result", "format"], name="published_file_unique")]

    def __str__(self) -> str:
        return f"{self.result} {self.format}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("公表したファイルは変更できません (published files are immutable)")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("公表したファイルは削除できません (published files are immutable)")


class Mask(models.Model):
    """A span of an item's text (or summary) hidden in every publication, or kept after review."""

    class Decision(models.TextChoices):
        PENDING = "pending", "要確認"
        MASK = "mask", "非公開"
        KEEP = "keep", "公開"

    class Source(models.TextChoices):
        AUTO = "auto", "自動"
        FLAG = "flag", "要確認（自動検出）"
        STAFF = "staff", "職員が追加"

    item = models.ForeignKey(Item, verbose_name="意見", on_delete=models.CASCADE, related_name="masks")
    field = models.CharField("対象", max_length=10, choices=[("text", "意見内容"), ("summary", "意見の要旨")],
                             default="text")
    start = models.PositiveIntegerField("開始位置")
    end = models.PositiveIntegerField("終了位置")
    kind = models.CharField("種類", max_length=30)
    source = models.CharField("検出元", max_length=6, choices=Source.choices)
    decision = models.CharField("判断", max_length=8, choices=Decision.choices)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="判断した職員", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField("判断日時", null=True, blank=True)
    note = models.CharField("メモ", max_length=200, blank=True)

    class Meta:
        verbose_name = "個人情報のマスキング"
        verbose_name_plural = "個人情報のマスキング"
        ordering = ["item", "field", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="mask_span_valid"),
            models.UniqueConstraint(fields=["item", "field", "start", "end"], name="mask_span_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.kind} {self.start}-{self.end}"


class ImpersonationReport(models.Model):
    """なりすまし申告: someone says an opinion was submitted in their name."""

    class State(models.TextChoices):
        NEW = "new", "未確認"
        UPHELD = "upheld", "申告を認め取下げ"
        REJECTED = "rejected", "申告を認めない"

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.CASCADE, related_name="impersonation_reports")
    receipt_number = models.CharField("受付番号（申告者の記載）", max_length=40, blank=True)
    submission = models.ForeignKey(Submission, verbose_name="対象の提出", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="impersonation_reports")
    reporter_name = models.CharField("申告者の氏名", max_length=100)
    reporter_contact = models.CharField("申告者の連絡先", max_length=200)
    statement = models.TextField("申告内容")
    state = models.CharField("状態", max_length=10, choices=State.choices, default=State.NEW)
    created_at = models.DateTimeField("申告日時", default=timezone.now)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="確認した職員", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField("確認日時", null=True, blank=True)
    review_note = models.TextField("確認結果", blank=True)

    class Meta:
        verbose_name = "なりすまし申告"
        verbose_name_plural = "なりすまし申告"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.case} / {self.receipt_number or '番号不明'}"


def period_warning(start: date, end: date, minimum_days: int) -> str:
    """The warning shown when a period is shorter than the ward's minimum (both days inclusive)."""
    days = (end - start).days + 1
    if days < minimum_days:
        return gettext("募集期間が%(days)s日間で、区の定める%(minimum)s日間より短くなっています。理由を記載してください。") % {
            "days": days, "minimum": minimum_days}
    return ""


def jst_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


class AnalysisRun(models.Model):
    """One run of the deterministic opinion analysis (`hiroba.analysis`) over a case's items.

    The report is kept whole (format: docs/analysis.md; opinion ids are item numbers); what the
    screens look up per item (campaign, group, suggestions) is also kept as `AnalysisRunItem`
    rows. `input_digest` is the SHA-256 of the analysed items' numbers and texts, so a finished
    run whose items have changed since is recognisable.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "待機中"
        RUNNING = "running", "実行中"
        DONE = "done", "完了"
        FAILED = "failed", "失敗"

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.CASCADE, related_name="analysis_runs")
    state = models.CharField("状態", max_length=8, choices=State.choices, default=State.QUEUED)
    stage = models.CharField("処理中の段階", max_length=30, blank=True)
    done = models.PositiveIntegerField("処理済み", default=0)
    total = models.PositiveIntegerField("全体", default=0)
    item_count = models.PositiveIntegerField("対象の意見数", default=0)
    input_digest = models.CharField("入力のSHA-256", max_length=64)
    report = models.JSONField("分析結果", null=True, blank=True)
    error = models.TextField("エラー", blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="依頼者", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("依頼日時", default=timezone.now)
    started_at = models.DateTimeField("開始日時", null=True, blank=True)
    finished_at = models.DateTimeField("終了日時", null=True, blank=True)

    class Meta:
        verbose_name = "意見の分析"
        verbose_name_plural = "意見の分析"
        ordering = ["-id"]  # newest first (ids, unlike clocks, only go forward)
        constraints = [
            models.CheckConstraint(condition=Q(state__in=["queued", "running", "done", "failed"]),
                                   name="analysis_run_state_valid"),
            models.UniqueConstraint(fields=["case"], condition=Q(state__in=["queued", "running"]),
                                    name="analysis_run_one_active_per_case"),
        ]

    def __str__(self) -> str:
        return f"{self.case} 意見の分析 #{self.pk}"

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return min(100, 100 * self.done // self.total) if self.total else 0

    @property
    def is_active(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)


class AnalysisRunItem(models.Model):
    """What one finished run found for one item: its campaign, its same-intent group, and the
    past answers suggested for it (each with the past opinion it answered)."""

    run = models.ForeignKey(AnalysisRun, verbose_name="意見の分析", on_delete=models.CASCADE, related_name="rows")
    item = models.ForeignKey(Item, verbose_name="意見", on_delete=models.CASCADE, related_name="analysis_rows")
    campaign = models.CharField("同じ文面のまとまり", max_length=20, blank=True)
    group = models.CharField("同趣旨のまとまり", max_length=20, blank=True)
    suggestions = models.JSONField("回答の候補", default=list, blank=True)

    class Meta:
        verbose_name = "意見ごとの分析結果"
        verbose_name_plural = "意見ごとの分析結果"
        ordering = ["run", "item"]
        constraints = [models.UniqueConstraint(fields=["run", "item"], name="analysis_run_item_unique")]
        indexes = [
            models.Index(fields=["run", "campaign"], name="analysis_row_campaign"),
            models.Index(fields=["run", "group"], name="analysis_row_group"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.item}"
