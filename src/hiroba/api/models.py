"""Personal access tokens for the staff API.

Only the SHA-256 of a token is stored; the token itself is shown once, when it is created. A
token belongs to one staff member and is narrowed to chosen departments, modules and read or
write access, and it expires (at most a year after it was created). Its owner's roles still
apply: a token never reaches a department its owner no longer holds a role in.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class Module(models.TextChoices):
    CONSULTATIONS = "consultations", gettext_lazy("意見募集（パブリックコメント）")
    PROPOSALS = "proposals", gettext_lazy("提案募集")
    WORKSHOPS = "workshops", gettext_lazy("ワークショップ")
    CALENDARS = "calendars", gettext_lazy("学校カレンダー")


class Access(models.TextChoices):
    READ = "read", gettext_lazy("読み取り")
    WRITE = "write", gettext_lazy("読み取りと書き込み")


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="職員", on_delete=models.PROTECT,
                             related_name="api_tokens")
    name = models.CharField("用途", max_length=100)
    prefix = models.CharField("トークンの識別子", max_length=16, unique=True)
    token_hash = models.CharField("トークンのSHA-256", max_length=64, unique=True)
    departments = models.ManyToManyField("core.Department", verbose_name="対象の所属", related_name="+")
    modules = models.JSONField("対象の機能", default=list)
    access = models.CharField("権限", max_length=5, choices=Access.choices, default=Access.READ)
    expires_at = models.DateTimeField("有効期限")
    created_at = models.DateTimeField("作成日時", default=timezone.now)
    last_used_at = models.DateTimeField("最終利用日時", null=True, blank=True)
    revoked_at = models.DateTimeField("失効日時", null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="失効させた職員", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "APIトークン"
        verbose_name_plural = "APIトークン"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(access__in=["read", "write"]), name="api_token_access_valid"),
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("created_at")), name="api_token_expires_later"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}）"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now: object | None = None) -> bool:
        return (now or timezone.now()) >= self.expires_at  # type: ignore[operator]

    @property
    def is_active(self) -> bool:
        return not self.is_revoked and not self.is_expired()

    @property
    def status_label(self) -> str:
        if self.is_revoked:
            return _("失効")
        return _("期限切れ") if self.is_expired() else _("有効")

    def module_labels(self) -> list[str]:
        return [str(Module(m).label) for m in self.modules if m in Module.values]


class WebhookEvent(models.TextChoices):
    OPENED = "consultation.opened", gettext_lazy("意見募集の開始")
    CLOSED = "consultation.closed", gettext_lazy("意見募集の終了")
    PUBLISHED = "consultation.published", gettext_lazy("結果の公表（訂正を含む）")


class Webhook(models.Model):
    """A department's subscription: signed (HMAC-SHA256) POSTs when its consultations open, close
    or publish results. The secret is kept (it signs every delivery) and shown once."""

    department = models.ForeignKey("core.Department", verbose_name="所属", on_delete=models.PROTECT,
                                   related_name="+")
    url = models.URLField("送信先URL", max_length=500)
    secret = models.CharField("署名の秘密鍵", max_length=100)
    events = models.JSONField("通知する出来事", default=list)
    is_active = models.BooleanField("有効", default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登録した職員", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("登録日時", default=timezone.now)

    class Meta:
        verbose_name = "Webhook"
        verbose_name_plural = "Webhook"
        ordering = ["department", "pk"]

    def __str__(self) -> str:
        return f"{self.department} → {self.url}"


class WebhookDelivery(models.Model):
    """One event sent to one hook: its payload, every attempt's outcome, the next try."""

    class State(models.TextChoices):
        PENDING = "pending", "送信待ち"
        DELIVERED = "delivered", "送信済み"
        FAILED = "failed", "送信失敗（再試行終了）"

    hook = models.ForeignKey(Webhook, verbose_name="Webhook", on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField("出来事", max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField("送信内容")
    state = models.CharField("状態", max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField("試行回数", default=0)
    last_status = models.PositiveSmallIntegerField("最後の応答コード", null=True, blank=True)
    last_error = models.CharField("最後のエラー", max_length=300, blank=True)
    next_attempt_at = models.DateTimeField("次の試行", null=True, blank=True)
    delivered_at = models.DateTimeField("送信日時", null=True, blank=True)
    created_at = models.DateTimeField("作成日時", default=timezone.now)

    class Meta:
        verbose_name = "Webhookの送信"
        verbose_name_plural = "Webhookの送信"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.event} → {self.hook.url}"
