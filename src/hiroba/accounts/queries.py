"""Reads about accounts: the account review (アカウント点検) the ward's auditors asked for."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from allauth.mfa.models import Authenticator
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone

from hiroba.accounts.models import Role, StaffMembership, User

SEVERITY_ORDER = {"重大": 0, "警告": 1, "注意": 2, "情報": 3}


@dataclass(frozen=True)
class Finding:
    severity: str  # 重大 / 警告 / 注意 / 情報
    code: str
    email: str
    name: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AccountReview:
    as_of: date
    inactive_days: int
    staff_total: int
    staff_active: int
    findings: list[Finding]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.findings:
            out[f.code] = out.get(f.code, 0) + 1
        return out

    def has_problems(self) -> bool:
        return any(f.severity in ("重大", "警告") for f in self.findings)


def account_review(*, as_of: date | None = None, inactive_days: int | None = None) -> AccountReview:
    """Every staff account a reviewer should look at, most serious first.

    - 重大: departed staff still active; active staff without MFA; memberships that outlive
      a departure.
    - 警告: no sign-in for `inactive_days` (or never, once the account is that old); active
      staff with no current department.
    - 注意: accounts locked out now by repeated failed sign-ins.
    - 情報: every system administrator (privileged accounts are reviewed each time).
    """
    today = as_of or timezone.localdate()
    days = inactive_days if inactive_days is not None else settings.ACCOUNT_REVIEW_INACTIVE_DAYS
    cutoff = timezone.make_aware(
        datetime.combine(today - timedelta(days=days), time.min)
    )
    strong_mfa = Authenticator.objects.filter(
        user=OuterRef("pk"), type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
    )
    current_membership = StaffMembership.objects.filter(user=OuterRef("pk"), starts_on__lte=today).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    )
    admin_membership = current_membership.filter(role=Role.ADMIN)
    staff = (
        User.objects.filter(kind=User.Kind.STAFF)
        .annotate(
            has_mfa=Exists(strong_mfa),
            has_membership=Exists(current_membership),
            is_admin=Exists(admin_membership),
        )
        .order_by("email")
    )
    findings: list[Finding] = []
    total = active = 0
    for user in staff:
        total += 1
        name = user.display_name
        if user.departed_on and user.departed_on <= today:
            if user.is_active:
                findings.append(Finding("重大", "departed_active", user.email, name,
                                        f"異動・退職日（{user.departed_on:%Y-%m-%d}）を過ぎても有効です"))
            if user.has_membership:
                findings.append(Finding("重大", "membership_after_departure", user.email, name,
                                        "異動・退職後も所属の役割が残っています"))
        if not user.is_active:
            continue
        active += 1
        if not user.has_mfa:
            findings.append(Finding("重大", "no_mfa", user.email, name, "二要素認証が未設定です"))
        if user.last_login is None:
            if user.date_joined < cutoff:
                findings.append(Finding("警告", "never_logged_in", user.email, name,
                                        f"作成から{days}日以上、一度もログインしていません"))
        elif user.last_login < cutoff:
            last = timezone.localtime(user.last_login)
            findings.append(Finding("警告", "inactive", user.email, name,
                                    f"最終ログイン {last:%Y-%m-%d}（{days}日以上ログインなし）"))
        if not user.has_membership:
            findings.append(Finding("警告", "no_department", user.email, name, "有効な所属・役割がありません"))
        if user.is_admin or user.is_superuser:
            findings.append(Finding("情報", "system_admin", user.email, name, "システム管理者権限を持っています"))
    # The lock-out is per account and address (settings.AXES_LOCKOUT_PARAMETERS), whatever the browser.
    locked = (AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME)
              .values("username", "ip_address").annotate(failures=Sum("failures_since_start"))
              .filter(failures__gte=settings.AXES_FAILURE_LIMIT).order_by("username", "ip_address"))
    for attempt in locked:
        findings.append(Finding("注意", "locked_out", attempt["username"] or "", "",
                                f"{attempt['ip_address'] or '不明なアドレス'}からのログイン失敗{attempt['failures']}回でロック中"))
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], f.code, f.email))
    return AccountReview(today, days, total, active, findings)


CODE_LABELS = {
    "departed_active": "異動・退職者のアカウントが有効",
    "membership_after_departure": "異動・退職後の役割の残存",
    "no_mfa": "二要素認証 未設定",
    "never_logged_in": "未使用アカウント",
    "inactive": "長期間ログインなし",
    "no_department": "所属なし",
    "system_admin": "システム管理者",
    "locked_out": "ロック中",
}


def department_handlers(department_ids: set[int], today: date) -> dict[int, list[User]]:
    """{department id: active staff holding 担当 or above on it directly, on `today`}.

    Who gets a department's reminder and notice mail (security reminders, records expiry notices).
    """
    out: dict[int, list[User]] = {}
    for m in StaffMembership.objects.filter(department_id__in=department_ids, role__gte=Role.HANDLE,
                                            user__is_active=True, starts_on__lte=today).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=today)).select_related("user"):
        out.setdefault(m.department_id, []).append(m.user)
    return out
