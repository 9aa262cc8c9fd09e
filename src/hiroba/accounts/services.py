"""Writes about accounts: staff creation, roles, departures, and the resident's stored
verification (本人確認: recorded at a counter or by the verifier, linked, revoked). Each is audited."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hiroba.accounts import audit_actions as actions
from hiroba.accounts import permissions
from hiroba.accounts.identity import VerifiedIdentity, identity_key
from hiroba.accounts.models import Relationship, ResidentVerification, Role, StaffMembership, User
from hiroba.core import audit
from hiroba.core.actors import ActorLike
from hiroba.core.errors import ServiceError
from hiroba.core.models import Department


class VerificationRefused(ServiceError):
    """A verification that cannot be recorded (or revoked) as asked; the message is for the person."""


@transaction.atomic
def staff_create(
    *, actor: ActorLike, email: str, display_name: str, password: str | None = None,
    staff_number: str = "", department: Department | None = None, role: Role = Role.READ,
) -> User:
    """Create a staff account (MFA is enrolled by the person at first sign-in)."""
    user = User.objects.create_user(
        email=email, password=password, kind=User.Kind.STAFF,
        display_name=display_name, staff_number=staff_number,
    )
    if password is None:
        user.set_unusable_password()
        user.save(update_fields=["password", "password_changed_at"])
    # The ward assigns staff addresses itself: they count as verified.
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    audit.record(actor=actor, action=actions.STAFF_CREATE, obj=user,
                 changes=audit.diff({}, audit.snapshot(user, ["email", "display_name", "staff_number", "kind"])))
    if department is not None:
        membership_grant(actor=actor, user=user, department=department, role=role)
    return user


@transaction.atomic
def membership_grant(*, actor: ActorLike, user: User, department: Department, role: Role,
                     starts_on: date | None = None) -> StaffMembership:
    """Give (or change) a staff member's role in a department."""
    if not user.kind == User.Kind.STAFF:
        raise ValueError("区民等のアカウントに職員の役割は付与できません")
    membership, created = StaffMembership.objects.get_or_create(
        user=user, department=department,
        defaults={"role": role, "starts_on": starts_on or timezone.localdate()},
    )
    before = {} if created else {"role": membership.role, "ends_on": membership.ends_on}
    if not created:
        membership.role = role
        membership.ends_on = None
        membership.save(update_fields=["role", "ends_on"])
    user.is_staff = bool(role >= Role.ADMIN) or user.is_staff
    user.save(update_fields=["is_staff"])
    audit.record(actor=actor, action=actions.MEMBERSHIP_GRANT, obj=membership,
                 changes=audit.diff(before, {"role": membership.role, "ends_on": membership.ends_on,
                                             "department": department.code}))
    permissions.forget(user)
    return membership


@transaction.atomic
def staff_depart(*, actor: ActorLike, user: User, on: date, reason: str) -> User:
    """Record a departure: the account is disabled and every role ends on that day."""
    before = audit.snapshot(user, ["is_active", "departed_on", "is_staff"])
    user.departed_on = on
    if on <= timezone.localdate():
        user.is_active = False
        user.is_staff = False
    user.save(update_fields=["departed_on", "is_active", "is_staff"])
    ended = StaffMembership.objects.filter(user=user, ends_on__isnull=True).update(ends_on=on)
    changes: dict[str, Any] = dict(audit.diff(before, audit.snapshot(user, ["is_active", "departed_on", "is_staff"])))
    changes["reason"] = reason
    changes["memberships_ended"] = ended
    audit.record(actor=actor, action=actions.STAFF_DEPART, obj=user, changes=changes)
    permissions.forget(user)
    return user


# --- The stored verification (本人確認) -------------------------------------------------------------


@transaction.atomic
def resident_verify(
    *,
    actor: ActorLike,
    display_name: str,
    residency: str,
    method: str = ResidentVerification.Method.COUNTER,
    user: User | None = None,
    birth_date: date | None = None,
    name_kana: str = "",
    address: str = "",
    now: datetime | None = None,
) -> ResidentVerification:
    """Record that a person's identity was checked (窓口 with an ID document, or an external verifier).

    At the counter the name (かな), birth date and address give an identity key, so one person
    cannot be verified twice — with or without an account. Verifying an account holder whose
    person was already verified without an account links the two.
    """
    if residency not in Relationship.values:
        raise VerificationRefused(_("在住・在勤・在学のいずれかを選んでください。"), code="required", field="residency")
    if user is not None and not user.is_resident:
        raise VerificationRefused(_("区民等のアカウントではありません。"), code="not_resident", field="email")
    clerk = actor if isinstance(actor, User) else None
    key = ""
    if method == ResidentVerification.Method.COUNTER:
        if clerk is None:
            raise VerificationRefused(_("窓口での本人確認は職員が記録します。"), code="not_staff")
        if not (name_kana.strip() and birth_date and address.strip()):
            raise VerificationRefused(_("窓口での本人確認には、氏名（かな）・生年月日・住所が必要です。"), code="required")
    if name_kana.strip() and birth_date and address.strip():
        key = identity_key(name_kana=name_kana, birth_date=birth_date, address=address)
    if user is None and not key:
        raise VerificationRefused(_("アカウントか、氏名（かな）・生年月日・住所のいずれかで本人を特定してください。"),
                                  code="required")
    existing = ResidentVerification.objects.select_for_update().filter(user=user).first() if user else None
    # Only the counter adds to what the verifier vouched for (the relationship, the birth date).
    upgrade = existing is not None and existing.method == ResidentVerification.Method.OIDC \
        and method == ResidentVerification.Method.COUNTER
    if existing is not None and not upgrade:
        raise VerificationRefused(_("このアカウントはすでに本人確認済みです。"), code="duplicate", field="email")
    same = ResidentVerification.objects.select_for_update().filter(identity_key=key).first() if key else None
    if same is not None and same != existing:
        if same.user_id is not None or user is None or existing is not None:
            raise VerificationRefused(_("この方はすでに本人確認済みです（同じ方を二重に登録することはできません）。"),
                                      code="duplicate")
        same.user = user
        same.save(update_fields=["user"])
        audit.record(actor=actor, action=actions.VERIFICATION_LINK, obj=same, changes={"user": [None, user.pk]})
        return same
    if existing is not None:
        return _counter_upgrade(actor=clerk, verification=existing, display_name=display_name, key=key,
                                residency=residency, birth_date=birth_date, at=now or timezone.now())
    verification = ResidentVerification.objects.create(
        user=user, display_name=display_name.strip()[:100] or (user.display_name if user else ""),
        identity_key=key, residency=residency, birth_date=birth_date, method=method,
        verified_at=now or timezone.now(), verified_by=clerk,
    )
    audit.record(actor=actor, action=actions.VERIFICATION_RECORD, obj=verification,
                 changes={"method": method, "residency": residency, "user": user.pk if user else None,
                          "birth_date_recorded": birth_date is not None})
    return verification


def _counter_upgrade(*, actor: User | None, verification: ResidentVerification, display_name: str, key: str,
                     residency: str, birth_date: date | None, at: datetime) -> ResidentVerification:
    """A counter check of an account the verifier verified: the row becomes the counter's (its
    identity key the counter's, so a paper ballot finds the person), renewed if it was revoked."""
    changes = {"method": [verification.method, ResidentVerification.Method.COUNTER], "residency": residency,
               "user": verification.user_id, "birth_date_recorded": birth_date is not None,
               "revoked_at": [verification.revoked_at, None]}
    verification.method, verification.identity_key = ResidentVerification.Method.COUNTER, key
    verification.residency, verification.birth_date = residency, birth_date
    verification.display_name = display_name.strip()[:100] or verification.display_name
    verification.verified_at, verification.verified_by, verification.revoked_at = at, actor, None
    verification.save()
    audit.record(actor=actor, action=actions.VERIFICATION_RECORD, obj=verification, changes=changes)
    return verification


@transaction.atomic
def resident_verification_store(*, user: User, identity: VerifiedIdentity,
                                now: datetime | None = None) -> ResidentVerification | None:
    """Keep what the verifier vouched for on the signed-in resident's account, so that a later
    session is verified too. The provider's subject is kept as its hash only (the identity key).

    A live verification is left as it is (a counter's records the relationship and birth date
    too); a revoked one is renewed by this fresh verification, for who the person is only. Nothing is stored for a staff
    account, nor when the same subject already verified another account (the session alone
    then holds it, as before).
    """
    if not user.is_resident:
        return None
    current = ResidentVerification.objects.select_for_update().filter(user=user).first()
    if current is not None and current.is_valid:
        return current
    taken = ResidentVerification.objects.filter(identity_key=identity.subject_hash)
    if current is not None:
        taken = taken.exclude(pk=current.pk)
    if taken.exists():
        return None
    at = now or timezone.now()
    if current is None:
        try:
            with transaction.atomic():
                current = ResidentVerification.objects.create(
                    user=user, display_name=(identity.name or user.display_name or user.email)[:100],
                    identity_key=identity.subject_hash, method=ResidentVerification.Method.OIDC, verified_at=at,
                )
        except IntegrityError:  # the same resident, finishing in two tabs at once: the other stored it
            return ResidentVerification.objects.filter(user=user).first()
        changes: dict[str, Any] = {"method": current.method, "user": user.pk}
    else:
        # The revoked check's relationship and birth date are not vouched for by the verifier.
        changes = {"method": [current.method, ResidentVerification.Method.OIDC], "user": user.pk,
                   "revoked_at": [current.revoked_at, None], "residency": [current.residency, ""],
                   "birth_date_recorded": False}
        current.method, current.residency, current.birth_date = ResidentVerification.Method.OIDC, "", None
        current.verified_at, current.verified_by, current.revoked_at = at, None, None
        if not current.identity_key:
            current.identity_key = identity.subject_hash
        current.save(update_fields=["method", "residency", "birth_date", "verified_at", "verified_by", "revoked_at",
                                    "identity_key"])
    audit.record(actor=user, action=actions.VERIFICATION_RECORD, obj=current, changes=changes)
    return current


@transaction.atomic
def resident_verification_revoke(*, actor: ActorLike, verification: ResidentVerification,
                                 reason: str) -> ResidentVerification:
    """Withdraw a verification (a mistake, a forged document): from now on no module counts the
    person as verified (the verifier can verify them afresh). What was done with it stays."""
    if not reason.strip():
        raise VerificationRefused(_("取消の理由を入力してください。"), code="reason_missing", field="reason")
    verification.revoked_at = timezone.now()
    verification.save(update_fields=["revoked_at"])
    audit.record(actor=actor, action=actions.VERIFICATION_REVOKE, obj=verification,
                 changes={"reason": reason.strip()})
    return verification
