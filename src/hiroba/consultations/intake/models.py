"""The intake queue: one `Entry` for everything that arrived by a channel other than hiroba's own
web form, and the `Original` files it arrived as.

An `Original` is written once (its bytes and SHA-256) and never changed or deleted. An `Entry`
is keyed by what identifies the thing in its channel (a Message-ID, a scan's hash and pages, a
form-service row key), so reading the same mailbox, scan or export again finds the entry already
there and adds nothing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from hiroba.consultations.models import Case, Channel, Submission


class Source(models.TextChoices):
    MAIL = "mail", "メール"
    FAX = "fax", "ファクス（メールで受信）"
    SCAN = "scan", "スキャンした紙"
    FORM = "form", "フォームサービス"


class State(models.TextChoices):
    AUTO = "auto", "自動取込"
    REVIEW = "review", "要確認"
    CONFIRMED = "confirmed", "確定"
    REJECTED = "rejected", "不受理"


class Original(models.Model):
    """A file exactly as it arrived: a mail (.eml), an attachment, a scan, a form-service export,
    or a page image rendered from a scan for the confirmation screen."""

    class Kind(models.TextChoices):
        MESSAGE = "message", "メール（.eml）"
        ATTACHMENT = "attachment", "添付ファイル"
        SCAN = "scan", "スキャン画像"
        PAGE = "page", "ページ画像（表示用）"
        EXPORT = "export", "フォームサービスの書き出し"

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.PROTECT, related_name="intake_originals")
    kind = models.CharField("種類", max_length=12, choices=Kind.choices)
    file = models.FileField("ファイル", upload_to="consultations/intake/%Y/%m/")
    name = models.CharField("ファイル名", max_length=200)
    content_type = models.CharField("ファイル形式", max_length=100, blank=True)
    size = models.PositiveBigIntegerField("大きさ（バイト）")
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    created_at = models.DateTimeField("保存日時", auto_now_add=True)

    class Meta:
        verbose_name = "取込みの原本"
        verbose_name_plural = "取込みの原本"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("原本は変更できません (intake originals are immutable)")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("原本は削除できません (intake originals are never deleted)")


class Entry(models.Model):
    """One thing that arrived: a mail, a fax, a scanned letter, a form-service row.

    自動取込: it became a submission by itself; 要確認: it waits for staff (a scanned letter to
    confirm, or a mail held with its reason); 確定: staff confirmed it into a submission;
    不受理: staff decided not to take it (kept, with the reason)."""

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.PROTECT, related_name="intake_entries")
    source = models.CharField("取込み元", max_length=8, choices=Source.choices)
    channel = models.CharField("提出方法", max_length=10, choices=Channel.choices)
    source_key = models.CharField("取込みの識別子", max_length=64, unique=True)
    state = models.CharField("状態", max_length=10, choices=State.choices)
    hold_code = models.CharField("保留の理由（区分）", max_length=30, blank=True)
    hold_reason = models.TextField("保留の理由", blank=True)
    submission = models.OneToOneField(Submission, verbose_name="提出", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="intake_entry")
    originals = models.ManyToManyField(Original, verbose_name="原本", related_name="entries", blank=True)
    received_at = models.DateTimeField("受信日時")
    sender = models.CharField("差出人", max_length=254, blank=True)
    sender_name = models.CharField("差出人の名前", max_length=200, blank=True)
    subject = models.CharField("件名", max_length=300, blank=True)
    message_id = models.CharField("Message-ID", max_length=300, blank=True)
    text = models.TextField("取り込んだ本文", blank=True)
    fields = models.JSONField("取り込んだ項目", default=dict, blank=True)
    ocr_text = models.TextField("OCRの結果", blank=True)
    ocr_words = models.JSONField("OCRの語と確からしさ", default=list, blank=True)
    ocr_confidence = models.FloatField("OCRの平均の確からしさ", null=True, blank=True)
    pages = models.CharField("ページ", max_length=40, blank=True)
    auto_replied = models.BooleanField("自動返信した", default=False)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="確認した職員", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField("確認日時", null=True, blank=True)
    decision_note = models.TextField("確認のメモ", blank=True)
    created_at = models.DateTimeField("取込日時", auto_now_add=True)

    class Meta:
        verbose_name = "取込み"
        verbose_name_plural = "取込み"
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["case", "state"]), models.Index(fields=["sender", "created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=[s.value for s in State]), name="intake_entry_state_valid"),
            models.CheckConstraint(
                condition=Q(state__in=["auto", "confirmed"], submission__isnull=False)
                | Q(state__in=["review", "rejected"], submission__isnull=True),
                name="intake_entry_submission_by_state",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.pk}"

    @property
    def is_held(self) -> bool:
        return self.state == State.REVIEW and bool(self.hold_code)

    @property
    def is_open(self) -> bool:
        return self.state == State.REVIEW


class FormMapping(models.Model):
    """How the columns of a form service's export map to a submission, saved per case."""

    FIELDS = ("text", "received_at", "name", "address", "category", "email", "phone", "section")

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.CASCADE, related_name="form_mappings")
    name = models.CharField("名前", max_length=100)
    row_key = models.CharField("行を識別する列", max_length=200)
    columns = models.JSONField("列の対応", default=dict)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="更新者", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    class Meta:
        verbose_name = "フォームサービスの列の対応"
        verbose_name_plural = "フォームサービスの列の対応"
        ordering = ["case", "name"]
        constraints = [models.UniqueConstraint(fields=["case", "name"], name="intake_mapping_name_unique_per_case")]

    def __str__(self) -> str:
        return self.name
