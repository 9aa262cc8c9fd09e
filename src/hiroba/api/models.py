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


class Module(models.TextChoices):
    CONSULTATIONS = "consultations", "意見募集（パブリックコメント）"
    PROPOSALS = "proposals", "提案募集"
    WORKSHOPS = "workshops", "ワークショップ"
    CALENDARS = "calendars", "学校カレンダー"


class Access(models.TextChoices):
    READ = "read", "読み取り"
    WRITE = "write", "読み取りと書き込み"


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
        return [Module(m).label for m in self.modules if m in Module.values]
