"""デジタル書面送付: notice types and their versioned templates, the ward's recipient list,
consent per type, batches approved by a second person, one `Notice` per person and batch, and
the print runs that carry everyone who is not reached digitally.

The key property is that every notice of a batch reaches its person exactly once: digitally
(opened on hiroba) or on paper (one `PrintItem` in one print run), never both and never
neither. The status machine below makes that a rule of the data: a notice that was opened
(delivered / acknowledged) has no transition to paper, a notice on paper has none back, and
`PrintItem.notice` is unique, so no notice is printed twice. Services move notices with
conditional UPDATEs whose WHERE clause is the transition's source states, so two processes
(a resident opening a notice while the fallback job runs, two fallback jobs, a resumed batch
worker) can never both win.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hiroba.core.states import StateMachine, Transition

#: Placeholders every template may use without a batch column: they come from the recipient list.
BUILTIN_FIELDS = ("宛名番号", "氏名", "郵便番号", "住所")
PLACEHOLDER = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")


class NoticeType(models.Model):
    """A kind of notice (児童手当, 国民健康保険, 住民税 …) with its department and rules."""

    slug = models.SlugField("識別子", max_length=40, unique=True)
    name = models.CharField("名称", max_length=100)
    department = models.ForeignKey("core.Department", verbose_name="所管所属", on_delete=models.PROTECT,
                                   related_name="notice_types")
    needs_acknowledgement = models.BooleanField("受領確認が必要", default=False)
    reminder_days = models.PositiveSmallIntegerField("督促までの日数", default=7)
    fallback_days = models.PositiveSmallIntegerField("紙への切替までの日数", default=14)
    retention_days = models.PositiveSmallIntegerField("書面の保存日数", default=365)
    mail_retention_days = models.PositiveSmallIntegerField("メール本文の保存日数", default=7)
    deadline_wording = models.CharField("期限の書き方", max_length=200, blank=True)
    consent_text = models.TextField("同意の文言", blank=True)
    consent_version = models.PositiveIntegerField("同意文の版", default=1)
    is_active = models.BooleanField("有効", default=True)

    class Meta:
        verbose_name = "書面の種類"
        verbose_name_plural = "書面の種類"
        ordering = ["department__sort_order", "slug"]

    def __str__(self) -> str:
        return self.name

    def current_template(self) -> NoticeTemplate | None:
        return self.templates.order_by("-version").first()


class NoticeTemplate(models.Model):
    """One version of a type's template. Versions are never edited: a change is a new version,
    and a sent notice points at the exact version it was rendered from."""

    notice_type = models.ForeignKey(NoticeType, verbose_name="書面の種類", on_delete=models.PROTECT,
                                    related_name="templates")
    version = models.PositiveIntegerField("版")
    title = models.CharField("表題", max_length=200)
    body = models.TextField("本文", help_text="差し込み項目は {{ 項目名 }} と書きます。")
    created_at = models.DateTimeField("作成日時", default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="作成者", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "書面のテンプレート"
        verbose_name_plural = "書面のテンプレート"
        ordering = ["notice_type", "-version"]
        constraints = [models.UniqueConstraint(fields=["notice_type", "version"], name="notice_template_version")]

    def __str__(self) -> str:
        return f"{self.notice_type} 第{self.version}版"

    def placeholders(self) -> list[str]:
        text = "\n".join([self.title, self.body, self.notice_type.deadline_wording])
        return list(dict.fromkeys(PLACEHOLDER.findall(text)))

    def fields(self) -> list[str]:
        """The batch columns this template needs beside 宛名番号."""
        return [name for name in self.placeholders() if name not in BUILTIN_FIELDS]


class Recipient(models.Model):
    """A person on the ward's recipient list (宛名), imported from the core system's export.

    Not an identity: the resident's account (`accounts.User`) is linked to it once they have
    confirmed who they are; the notices of this 宛名番号 are then theirs to read."""

    atena_number = models.CharField("宛名番号", max_length=20, unique=True)
    name = models.CharField("氏名", max_length=100)
    postal_code = models.CharField("郵便番号", max_length=8)
    address = models.CharField("住所", max_length=300)
    birth_date = models.DateField("生年月日")
    email = models.EmailField("メールアドレス", blank=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name="利用者アカウント", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="notice_recipient")
    imported_at = models.DateTimeField("取込日時", default=timezone.now)

    class Meta:
        verbose_name = "宛名"
        verbose_name_plural = "宛名"
        ordering = ["atena_number"]

    def __str__(self) -> str:
        return f"{self.atena_number} {self.name}"


class Consent(models.Model):
    """A resident's consent to receive one type digitally (デジタル手続法 第7条), with the
    version of the consent text they agreed to. Withdrawal ends it; a later consent is a new row."""

    recipient = models.ForeignKey(Recipient, verbose_name="宛名", on_delete=models.CASCADE, related_name="consents")
    notice_type = models.ForeignKey(NoticeType, verbose_name="書面の種類", on_delete=models.PROTECT,
                                    related_name="consents")
    consent_version = models.PositiveIntegerField("同意した文言の版")
    given_at = models.DateTimeField("同意日時", default=timezone.now)
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="同意した人", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    withdrawn_at = models.DateTimeField("撤回日時", null=True, blank=True)

    class Meta:
        verbose_name = "電子送付への同意"
        verbose_name_plural = "電子送付への同意"
        ordering = ["-given_at"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "notice_type"], condition=Q(withdrawn_at__isnull=True),
                                    name="one_active_consent_per_type"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} — {self.notice_type}"


class Representative(models.Model):
    """Someone who may read a resident's notices of the granted types: a registered 代理人 or
    a guardian (保護者) for a child. Revoking ends the access at once."""

    class Kind(models.TextChoices):
        REPRESENTATIVE = "representative", "代理人"
        GUARDIAN = "guardian", "保護者"

    recipient = models.ForeignKey(Recipient, verbose_name="本人", on_delete=models.CASCADE,
                                  related_name="representatives")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="代理人のアカウント", on_delete=models.CASCADE,
                             related_name="notice_representations")
    kind = models.CharField("種別", max_length=16, choices=Kind.choices, default=Kind.REPRESENTATIVE)
    types = models.ManyToManyField(NoticeType, verbose_name="閲覧できる書面の種類", related_name="+")
    granted_at = models.DateTimeField("登録日時", default=timezone.now)
    revoked_at = models.DateTimeField("取消日時", null=True, blank=True)

    class Meta:
        verbose_name = "代理人"
        verbose_name_plural = "代理人"
        constraints = [
            models.UniqueConstraint(fields=["recipient", "user"], condition=Q(revoked_at__isnull=True),
                                    name="one_active_representation"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.recipient}"


class BatchState(models.TextChoices):
    AWAITING = "awaiting", "承認待ち"
    APPROVED = "approved", "承認済み"
    DISPATCHING = "dispatching", "送付処理中"
    DISPATCHED = "dispatched", "送付済み"
    CANCELLED = "cancelled", "取消"


class Batch(models.Model):
    """One upload of a notice type's rows, approved by a second person before anything is sent."""

    notice_type = models.ForeignKey(NoticeType, verbose_name="書面の種類", on_delete=models.PROTECT,
                                    related_name="batches")
    template = models.ForeignKey(NoticeTemplate, verbose_name="テンプレート", on_delete=models.PROTECT,
                                 related_name="batches")
    state = models.CharField("状態", max_length=12, choices=BatchState.choices, default=BatchState.AWAITING)
    filename = models.CharField("ファイル名", max_length=200, blank=True)
    file_sha256 = models.CharField("ファイルのSHA-256", max_length=64)
    row_count = models.PositiveIntegerField("件数", default=0)
    created_at = models.DateTimeField("作成日時", default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="作成者", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_label = models.CharField("作成者の表示", max_length=254, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="承認者", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField("承認日時", null=True, blank=True)
    dispatched_at = models.DateTimeField("送付日時", null=True, blank=True)

    workflow = StateMachine("state", [
        Transition("approve", source=[BatchState.AWAITING], target=BatchState.APPROVED, label=_("承認する"),
                   permission="notices.approve_batch",
                   confirm=_("承認すると送付できるようになります。内容と件数を確認しましたか。")),
        Transition("dispatch", source=[BatchState.APPROVED, BatchState.DISPATCHING],
                   target=BatchState.DISPATCHING, label=_("送付する"), permission="notices.handle_batch"),
        Transition("finish", source=[BatchState.DISPATCHING], target=BatchState.DISPATCHED, label=_("送付を完了する")),
        Transition("cancel", source=[BatchState.AWAITING, BatchState.APPROVED], target=BatchState.CANCELLED,
                   label=_("取り消す"), permission="notices.handle_batch", style="danger"),
    ])

    class Meta:
        verbose_name = "送付バッチ"
        verbose_name_plural = "送付バッチ"
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(approved_by__isnull=True) | ~Q(approved_by=models.F("created_by")),
                                   name="batch_approver_is_another_person"),
        ]

    def __str__(self) -> str:
        return f"{self.notice_type} #{self.pk}"

    @property
    def department_id(self) -> int:
        return self.notice_type.department_id


class Status(models.TextChoices):
    CREATED = "created", "作成"
    QUEUED = "queued", "送信待ち"
    SENT = "sent", "メール送信済み"
    DELIVERED = "delivered", "開封済み"
    ACKNOWLEDGED = "acknowledged", "受領確認済み"
    TEMPORARY_FAILURE = "temporary_failure", "一時的な送信失敗"
    PERMANENT_FAILURE = "permanent_failure", "送信失敗"
    BOUNCED = "bounced", "不達"
    PAPER = "paper", "紙で送付予定"
    PRINTED = "printed", "印刷済み"
    POSTED = "posted", "郵送済み"
    RETURNED = "returned", "返戻"


#: Digital states from which a notice may still go either way: opened, or to paper.
PENDING_DIGITAL = [Status.QUEUED, Status.SENT, Status.TEMPORARY_FAILURE, Status.PERMANENT_FAILURE, Status.BOUNCED]
#: The person was reached digitally.
REACHED_DIGITALLY = [Status.DELIVERED, Status.ACKNOWLEDGED]
#: The person is (or will be) reached on paper.
ON_PAPER = [Status.PAPER, Status.PRINTED, Status.POSTED, Status.RETURNED]


class Route(models.TextChoices):
    DIGITAL = "digital", "電子"
    PAPER = "paper", "紙"


class PaperReason(models.TextChoices):
    NONE = "", "—"
    NOT_OPTED_IN = "not_opted_in", "電子送付に同意していない"
    NO_EMAIL = "no_email", "メールアドレスがない"
    BOUNCED = "bounced", "メールが届かなかった"
    FAILED = "failed", "メールを送信できなかった"
    NOT_OPENED = "not_opened", "期限までに開封されなかった"


class Notice(models.Model):
    """One person's notice in one batch: what was rendered (and its hash), the route it took and
    every status it passed through (`NoticeEvent`)."""

    batch = models.ForeignKey(Batch, verbose_name="送付バッチ", on_delete=models.PROTECT, related_name="notices")
    recipient = models.ForeignKey(Recipient, verbose_name="宛名", on_delete=models.PROTECT, related_name="notices")
    template = models.ForeignKey(NoticeTemplate, verbose_name="テンプレート", on_delete=models.PROTECT,
                                 related_name="notices")
    row_number = models.PositiveIntegerField("行番号")
    status = models.CharField("状態", max_length=20, choices=Status.choices, default=Status.CREATED)
    route = models.CharField("経路", max_length=8, choices=Route.choices, blank=True)
    paper_reason = models.CharField("紙になった理由", max_length=16, choices=PaperReason.choices, blank=True)
    values = models.JSONField("差し込み項目", default=dict)
    title = models.CharField("表題", max_length=300, blank=True)
    content_html = models.TextField("書面（HTML）", blank=True)
    content_sha256 = models.CharField("書面のSHA-256", max_length=64)
    notification = models.ForeignKey("core.Notification", verbose_name="お知らせメール", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    reminder = models.ForeignKey("core.Notification", verbose_name="督促メール", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("作成日時", default=timezone.now)
    queued_at = models.DateTimeField("送信待ち日時", null=True, blank=True)
    sent_at = models.DateTimeField("メール送信日時", null=True, blank=True)
    opened_at = models.DateTimeField("開封日時", null=True, blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="開封した人", null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    opened_as = models.CharField("開封した人の立場", max_length=16, blank=True)
    acknowledged_at = models.DateTimeField("受領確認日時", null=True, blank=True)
    reminded_at = models.DateTimeField("督促日時", null=True, blank=True)
    fallback_due_at = models.DateTimeField("紙への切替日時", null=True, blank=True)
    paper_at = models.DateTimeField("紙に切替えた日時", null=True, blank=True)
    purged_at = models.DateTimeField("内容を消去した日時", null=True, blank=True)

    workflow = StateMachine("status", [
        Transition("queue", source=[Status.CREATED], target=Status.QUEUED, label=_("メールで知らせる")),
        Transition("mail_sent", source=[Status.QUEUED, Status.TEMPORARY_FAILURE], target=Status.SENT,
                   label=_("メール送信済みにする")),
        Transition("mail_delayed", source=[Status.QUEUED, Status.SENT], target=Status.TEMPORARY_FAILURE,
                   label=_("一時的な送信失敗にする")),
        Transition("mail_failed", source=[Status.QUEUED, Status.TEMPORARY_FAILURE, Status.SENT],
                   target=Status.PERMANENT_FAILURE, label=_("送信失敗にする")),
        Transition("bounce", source=[Status.QUEUED, Status.SENT, Status.TEMPORARY_FAILURE], target=Status.BOUNCED,
                   label=_("不達にする")),
        Transition("open", source=PENDING_DIGITAL, target=Status.DELIVERED, label=_("開封する")),
        Transition("acknowledge", source=[Status.DELIVERED], target=Status.ACKNOWLEDGED, label=_("受領を確認する")),
        Transition("to_paper", source=[Status.CREATED, *PENDING_DIGITAL], target=Status.PAPER,
                   label=_("紙で送付する")),
        Transition("print", source=[Status.PAPER], target=Status.PRINTED, label=_("印刷済みにする")),
        Transition("post", source=[Status.PRINTED], target=Status.POSTED, label=_("郵送済みにする")),
        Transition("return", source=[Status.PRINTED, Status.POSTED], target=Status.RETURNED,
                   label=_("返戻を記録する"), permission="notices.handle_batch"),
    ])

    class Meta:
        verbose_name = "書面"
        verbose_name_plural = "書面"
        ordering = ["batch", "row_number"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "recipient"], name="one_notice_per_person_and_batch"),
            models.CheckConstraint(condition=Q(status__in=[s.value for s in Status]), name="notice_status_valid"),
            # never both: a notice reached digitally was never sent to paper, and the reverse
            models.CheckConstraint(condition=~Q(status__in=["delivered", "acknowledged"], paper_at__isnull=False),
                                   name="notice_not_both_digital_and_paper"),
        ]
        indexes = [
            models.Index(fields=["status", "fallback_due_at"], name="notice_due"),
            # dispatch's chunks (a batch's notices still 作成, by id, after the last id taken): a range of
            # this index, not a scan of every row of the batch and of every 作成 row, moved or not, per chunk
            models.Index(fields=["batch", "id"], condition=Q(status="created"), name="notice_to_dispatch"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}-{self.row_number} {self.recipient.atena_number}"

    @property
    def department_id(self) -> int:
        return self.batch.notice_type.department_id


class NoticeEvent(models.Model):
    """A notice's status history: kept after its content is deleted, as the proof of what happened."""

    notice = models.ForeignKey(Notice, verbose_name="書面", on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField("日時", default=timezone.now)
    from_status = models.CharField("変更前", max_length=20, blank=True)
    to_status = models.CharField("変更後", max_length=20)
    actor = models.CharField("操作した人", max_length=254, blank=True)
    note = models.CharField("備考", max_length=300, blank=True)

    class Meta:
        verbose_name = "書面の状態履歴"
        verbose_name_plural = "書面の状態履歴"
        ordering = ["notice", "at", "id"]

    def __str__(self) -> str:
        return f"{self.notice_id}: {self.from_status or '—'} → {self.to_status}"


class PrintRunState(models.TextChoices):
    CREATED = "created", "印刷待ち"
    PRINTED = "printed", "印刷済み"
    POSTED = "posted", "郵送済み"


class PrintRun(models.Model):
    """One run of the print vendor: one PDF with every letter and a 送付一覧 CSV."""

    state = models.CharField("状態", max_length=8, choices=PrintRunState.choices, default=PrintRunState.CREATED)
    created_at = models.DateTimeField("作成日時", default=timezone.now)
    printed_at = models.DateTimeField("印刷日時", null=True, blank=True)
    posted_at = models.DateTimeField("郵送日時", null=True, blank=True)
    letter_count = models.PositiveIntegerField("通数", default=0)

    workflow = StateMachine("state", [
        Transition("print", source=[PrintRunState.CREATED], target=PrintRunState.PRINTED, label=_("印刷済みにする"),
                   permission="notices.handle_print"),
        Transition("post", source=[PrintRunState.PRINTED], target=PrintRunState.POSTED, label=_("郵送済みにする"),
                   permission="notices.handle_print"),
    ])

    class Meta:
        verbose_name = "印刷"
        verbose_name_plural = "印刷"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"印刷 #{self.pk}"


class PrintItem(models.Model):
    """A notice in a print run. `notice` is unique: nobody is printed twice."""

    run = models.ForeignKey(PrintRun, verbose_name="印刷", on_delete=models.PROTECT, related_name="items")
    notice = models.OneToOneField(Notice, verbose_name="書面", on_delete=models.PROTECT, related_name="print_item")
    sequence = models.PositiveIntegerField("通番")

    class Meta:
        verbose_name = "印刷する書面"
        verbose_name_plural = "印刷する書面"
        ordering = ["run", "sequence"]
        constraints = [models.UniqueConstraint(fields=["run", "sequence"], name="print_item_sequence")]

    def __str__(self) -> str:
        return f"{self.run_id}-{self.sequence}"


class RecipientUpload(models.Model):
    """A recipient list uploaded for preview: nothing is imported until a staff member applies
    it. The file is kept only until it is applied or discarded (it holds personal data)."""

    class State(models.TextChoices):
        PREVIEW = "preview", "確認中"
        APPLIED = "applied", "反映済み"
        DISCARDED = "discarded", "破棄"

    state = models.CharField("状態", max_length=10, choices=State.choices, default=State.PREVIEW)
    filename = models.CharField("ファイル名", max_length=200, blank=True)
    file_sha256 = models.CharField("ファイルのSHA-256", max_length=64)
    content = models.BinaryField("ファイル", blank=True)
    created_at = models.DateTimeField("アップロード日時", default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="アップロードした人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    summary = models.JSONField("結果", default=dict, blank=True)
    finished_at = models.DateTimeField("反映・破棄の日時", null=True, blank=True)

    class Meta:
        verbose_name = "宛名一覧のアップロード"
        verbose_name_plural = "宛名一覧のアップロード"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.filename} #{self.pk}"
