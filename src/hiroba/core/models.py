"""Departments (所属) and the append-only, hash-chained audit log (監査ログ)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


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
