"""Staff and residents, and the roles staff hold in departments."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IdentityLevel(models.TextChoices):
    """How sure hiroba must be of who a resident is, weakest first. Each module states the level
    a write needs (a consultation's opinions, a call's votes) and asks `hiroba.accounts.identity`
    whether a resident has reached it."""

    NONE = "none", _("本人確認なし")
    EMAIL = "email", _("メールアドレスの確認")
    VERIFIED = "verified", _("本人確認済み")

    @classmethod
    def rank(cls, value: str) -> int:
        return [cls.NONE, cls.EMAIL, cls.VERIFIED].index(cls(value))

    @classmethod
    def satisfies(cls, reached: str, needed: str) -> bool:
        return cls.rank(reached) >= cls.rank(needed)


class Relationship(models.TextChoices):
    """A person's tie to the ward (在住・在勤・在学): who may comment, vote or apply."""

    RESIDENT = "resident", _("在住")
    WORKER = "worker", _("在勤")
    STUDENT = "student", _("在学")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("メールアドレスは必須です")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("kind", User.Kind.RESIDENT)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.update(kind=User.Kind.STAFF, is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person who signs in: ward staff (職員) or a resident (区民等). Never both."""

    class Kind(models.TextChoices):
        STAFF = "staff", "職員"
        RESIDENT = "resident", "区民等"

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField("メールアドレス", unique=True)
    kind = models.CharField("種別", max_length=10, choices=Kind.choices, default=Kind.RESIDENT)
    display_name = models.CharField("氏名", max_length=100, blank=True)
    display_name_kana = models.CharField("氏名（かな）", max_length=100, blank=True)
    staff_number = models.CharField("職員番号", max_length=20, blank=True)
    departed_on = models.DateField(
        "異動・退職日", null=True, blank=True,
        help_text="この日以降もアカウントが有効なら、アカウント点検で指摘されます。",
    )
    password_changed_at = models.DateTimeField("パスワード変更日時", null=True, blank=True)

    objects = UserManager()  # type: ignore[misc,assignment]  # the e-mail-keyed manager

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []  # type: ignore[misc]

    class Meta:
        verbose_name = "利用者"
        verbose_name_plural = "利用者"
        constraints = [
            models.UniqueConstraint(
                fields=["staff_number"], condition=~Q(staff_number=""), name="unique_staff_number"
            ),
            models.CheckConstraint(
                condition=Q(kind="staff") | Q(is_staff=False, is_superuser=False),
                name="residents_are_never_django_staff",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.email

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    @property
    def is_staff_member(self) -> bool:
        return self.is_active and self.kind == self.Kind.STAFF

    @property
    def is_resident(self) -> bool:
        return self.is_active and self.kind == self.Kind.RESIDENT


class Role(models.IntegerChoices):
    """Staff roles, each including the ones below it."""

    READ = 10, "閲覧"
    HANDLE = 20, "担当"
    APPROVE = 30, "承認"
    ADMIN = 40, "システム管理者"


class StaffMembership(models.Model):
    """A staff member's role in a department (and the departments below it)."""

    user = models.ForeignKey(User, verbose_name="職員", on_delete=models.CASCADE, related_name="memberships")
    department = models.ForeignKey(
        "core.Department", verbose_name="所属", on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.PositiveSmallIntegerField("役割", choices=Role.choices, default=Role.READ)
    starts_on = models.DateField("開始日", default=timezone.localdate)
    ends_on = models.DateField("終了日", null=True, blank=True)

    class Meta:
        verbose_name = "所属と役割"
        verbose_name_plural = "所属と役割"
        ordering = ["department__sort_order", "department__code", "-role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "department"], name="one_role_per_department"),
            models.CheckConstraint(condition=Q(role__in=[10, 20, 30, 40]), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.department.name}（{self.get_role_display()}）"

    def is_current(self, on: object | None = None) -> bool:
        day = on or timezone.localdate()
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)  # type: ignore[operator]


class ResidentVerification(models.Model):
    """A person whose identity the ward has checked (本人確認): the one stored verification every
    module asks for, through `hiroba.accounts.identity`, at the level it needs.

    Written by staff at a counter (an ID document checked) or when a signed-in resident completes
    the verifier (OpenID Connect). A counter-verified person need not have an account: paper
    voters are identified by `identity_key`, an HMAC of their normalised name, birth date and
    address, so the same person cannot be registered twice; for the verifier it is the hash of
    the provider's subject. Nobody may hold two verifications. The relationship to the ward is
    recorded at the counter; the verifier does not vouch for it (blank).
    """

    class Method(models.TextChoices):
        COUNTER = "counter", "窓口で本人確認書類を確認"
        OIDC = "oidc", "外部の本人確認サービス"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name="アカウント", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="resident_verification")
    display_name = models.CharField("氏名", max_length=100)
    identity_key = models.CharField("本人識別キー", max_length=64, blank=True)
    residency = models.CharField("区分", max_length=8, choices=Relationship.choices, blank=True)
    birth_date = models.DateField("生年月日", null=True, blank=True)
    method = models.CharField("確認方法", max_length=10, choices=Method.choices)
    verified_at = models.DateTimeField("確認日時", default=timezone.now)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="確認した職員", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField("取消日時", null=True, blank=True)

    class Meta:
        verbose_name = "本人確認"
        verbose_name_plural = "本人確認"
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["identity_key"], condition=~Q(identity_key=""),
                                    name="accounts_verification_one_per_person"),
            models.CheckConstraint(condition=Q(user__isnull=False) | ~Q(identity_key=""),
                                   name="accounts_verification_identifies"),
            models.CheckConstraint(condition=~Q(method="counter") | Q(verified_by__isnull=False),
                                   name="accounts_counter_verification_has_clerk"),
            models.CheckConstraint(condition=Q(residency__in=["", "resident", "worker", "student"]),
                                   name="accounts_verification_residency"),
            models.CheckConstraint(condition=~Q(method="counter") | ~Q(residency=""),
                                   name="accounts_counter_verification_has_residency"),
        ]

    def __str__(self) -> str:
        if not self.residency:
            return self.display_name
        return f"{self.display_name}（{self.get_residency_display()}）"

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None

    def age_on(self, day: date) -> int | None:
        if self.birth_date is None:
            return None
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
