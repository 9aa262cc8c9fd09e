"""Departments (所属) and the append-only, hash-chained audit log (監査ログ)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Department(models.Model):
    """A 所属 in the ward's organisation tree (部 → 課 → 係)."""

    code = models.SlugField("所属コード", max_length=40, unique=True)
    name = models.CharField("所属名", max_length=100)
    name_en = models.CharField("所属名（英語）", max_length=100, blank=True)
    parent = models.ForeignKey(
        "self", verbose_name="上位所属", null=True, blank=True,
        on_delete=models.PROTECT, related_name="children",
    )
    is_active = models.BooleanField("有効", default=True)
    sort_order = models.PositiveIntegerField("表示順", default=0)

    class Meta:
        verbose_name = "所属"
        verbose_name_plural = "所属"
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="department_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        names = [d.name for d in self.ancestors()] + [self.name]
        return " ".join(names)

    def ancestors(self) -> list[Department]:
        """From the root down to the parent; guards against cycles."""
        chain: list[Department] = []
        seen = {self.pk}
        node = self.parent
        while node is not None and node.pk not in seen:
            chain.append(node)
            seen.add(node.pk)
            node = node.parent
        return list(reversed(chain))

    def descendant_ids(self) -> set[int]:
        """This department and every department below it."""
        ids = {self.pk}
        frontier = [self.pk]
        while frontier:
            children = list(Department.objects.filter(parent_id__in=frontier).values_list("id", flat=True))
            frontier = [c for c in children if c not in ids]
            ids.update(frontier)
        return ids


class AuditChainHead(models.Model):
    """The newest link of the audit chain: a single row, locked while an entry is appended.

    It lets `hiroba audit verify` notice entries removed from the end of the chain.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="")

    class Meta:
        verbose_name = "監査ログの末尾"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="audit_head_single_row")]

    def __str__(self) -> str:
        return f"#{self.last_seq} {self.last_hash[:12]}"


class AuditEntry(models.Model):
    """One staff write (or security event). Append-only: rows are never updated or deleted.

    Database triggers refuse UPDATE and DELETE; `entry_hash` is an HMAC over the entry's fields
    and the previous entry's hash, so any change, removal or insertion breaks the chain.
    """

    seq = models.BigIntegerField("通番", primary_key=True)
    occurred_at = models.DateTimeField("日時", db_index=True)
    actor_id = models.BigIntegerField("操作者ID", null=True, blank=True, db_index=True)
    actor_label = models.CharField("操作者", max_length=254, blank=True)
    action = models.CharField("操作", max_length=64, db_index=True)
    object_type = models.CharField("対象の種類", max_length=100, blank=True)
    object_id = models.CharField("対象ID", max_length=64, blank=True)
    object_repr = models.CharField("対象", max_length=300, blank=True)
    changes = models.JSONField("変更内容", default=dict, blank=True)
    request_id = models.CharField("リクエストID", max_length=64, blank=True)
    ip_address = models.GenericIPAddressField("IPアドレス", null=True, blank=True)
    prev_hash = models.CharField("前エントリのハッシュ", max_length=64)
    entry_hash = models.CharField("ハッシュ", max_length=64, unique=True)
    # Set when the entry was written pending (PendingAuditEntry) and moved here by the chainer:
    # its number among pending entries and the MAC its writer gave it (see audit.pending_mac).
    # Nullable, so that adding them left the table (and its triggers) as they were on SQLite.
    pending_seq = models.BigIntegerField("連結待ちの通番", null=True, blank=True)
    pending_nonce = models.CharField("連結待ちのノンス", max_length=34, null=True, blank=True)
    pending_mac = models.CharField("連結待ちのMAC", max_length=64, null=True, blank=True)

    class Meta:
        verbose_name = "監査ログ"
        verbose_name_plural = "監査ログ"
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        constraints = [
            models.UniqueConstraint(fields=["pending_seq"], condition=Q(pending_seq__isnull=False),
                                    name="audit_entry_pending_seq_once"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not self._state.adding:
            raise PermissionError("監査ログは変更できません (audit entries are append-only)")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError("監査ログは削除できません (audit entries are append-only)")


class PendingAuditCounter(models.Model):
    """How many pending audit entries were ever written: the number the next one takes.

    Taken with an ``UPDATE … RETURNING`` (row-locked until the writer commits), so numbers
    never repeat and never skip, and pending entries become visible in number order. A trigger
    refuses lowering it or deleting the row.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "監査ログ（連結待ち）の通番"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="audit_pending_counter_single_row")]

    def __str__(self) -> str:
        return f"pending #{self.last_seq}"


class PendingAuditEntry(models.Model):
    """An audit entry written in its writer's transaction but not yet linked into the chain.

    The hot public paths (a resident's submission) write here instead of taking the chain head's
    lock, which every writer would otherwise queue behind until its commit. `audit.chain_pending`
    moves these rows, in number order, into `AuditEntry` under the head lock, in batches; the
    chainer process (`hiroba audit chain --follow`), every synchronous `audit.record` and every
    verification drain them.

    Nothing written here can vanish unseen: each entry takes the next `pending_seq` (gapless,
    `PendingAuditCounter`) and carries a unique nonce and a MAC over its content keyed outside
    the database (`audit.pending_mac`), all kept when it is linked; `verify` reports a missing
    number, a forged, altered or copied entry. Triggers refuse UPDATE, and DELETE of a row not
    yet in the chain.
    """

    id = models.BigAutoField(primary_key=True)
    pending_seq = models.BigIntegerField("通番", unique=True)
    nonce = models.CharField("ノンス", max_length=34, unique=True)
    mac = models.CharField("MAC", max_length=64)
    occurred_at = models.DateTimeField("日時")
    actor_id = models.BigIntegerField("操作者ID", null=True, blank=True)
    actor_label = models.CharField("操作者", max_length=254, blank=True)
    action = models.CharField("操作", max_length=64)
    object_type = models.CharField("対象の種類", max_length=100, blank=True)
    object_id = models.CharField("対象ID", max_length=64, blank=True)
    object_repr = models.CharField("対象", max_length=300, blank=True)
    changes = models.JSONField("変更内容", default=dict, blank=True)
    request_id = models.CharField("リクエストID", max_length=64, blank=True)
    ip_address = models.GenericIPAddressField("IPアドレス", null=True, blank=True)

    class Meta:
        verbose_name = "監査ログ（連結待ち）"
        verbose_name_plural = "監査ログ（連結待ち）"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"pending {self.id} {self.action}"


class Notification(models.Model):
    """One e-mail hiroba sends (受付のお知らせ, 同意のお願い, 抽選結果, 職員への通知 …): an outbox row.

    `hiroba.core.notify.send` renders the message in the recipient's language and stores it
    here inside the caller's transaction, then queues its delivery (django-tasks) on commit: a
    rolled-back write sends nothing, a committed one is never forgotten (a worker that dies is
    covered by `notify.deliver_due`), and what was sent is kept as sent. Retries reuse the
    stored message, so a resend is the same bytes with the same Message-ID.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "送信待ち"
        SENDING = "sending", "送信中"
        SENT = "sent", "送信済み"
        RETRY = "retry", "再送待ち"
        FAILED = "failed", "送信失敗"

    template = models.CharField("テンプレート", max_length=100)
    recipient = models.EmailField("宛先", max_length=254)
    language = models.CharField("言語", max_length=10, default="ja")
    subject = models.CharField("件名", max_length=300)
    body = models.TextField("本文")
    html_body = models.TextField("本文（HTML）", blank=True)
    state = models.CharField("状態", max_length=8, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField("送信試行回数", default=0)
    next_attempt_at = models.DateTimeField("次の送信", null=True, blank=True)
    claimed_at = models.DateTimeField("送信を始めた日時", null=True, blank=True)
    last_error = models.CharField("最後のエラー", max_length=500, blank=True)
    object_type = models.CharField("関連する記録の種類", max_length=100, blank=True)
    object_id = models.CharField("関連する記録のID", max_length=64, blank=True)
    created_at = models.DateTimeField("作成日時", default=timezone.now)
    sent_at = models.DateTimeField("送信日時", null=True, blank=True)

    class Meta:
        verbose_name = "送信メール"
        verbose_name_plural = "送信メール"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="notification_due"),
            models.Index(fields=["object_type", "object_id"], name="notification_object"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(state__in=["queued", "sending", "sent", "retry", "failed"]),
                                   name="notification_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.template} → {self.recipient} ({self.state})"

    @property
    def message_id(self) -> str:
        """Stable across retries, so a receiving server can drop a resend it already has."""
        return f"<notification-{self.pk}@hiroba>"


class RateCounter(models.Model):
    """A rate-limit counter when the cache is the database (`hiroba.core.throttle`): one row per
    key and window, incremented atomically with ``INSERT … ON CONFLICT DO UPDATE … RETURNING``.

    Django's database cache cannot do this: its ``incr`` is a read and a write that also resets
    the entry's time-out, so a window's count would vanish after five minutes and two processes
    could both count 1. With Redis (``HIROBA_CACHE_URL``) the counters live there instead.
    """

    key = models.CharField("キー", max_length=200, primary_key=True)
    count = models.PositiveIntegerField("回数", default=0)
    expires_at = models.DateTimeField("期限", db_index=True)

    class Meta:
        verbose_name = "利用回数の制限カウンタ"
        verbose_name_plural = "利用回数の制限カウンタ"

    def __str__(self) -> str:
        return f"{self.key} = {self.count}"
