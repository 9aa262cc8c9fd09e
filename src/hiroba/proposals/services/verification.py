"""Voter verification (本人確認): the identity key, recording and revoking a verification."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hiroba.accounts.models import Relationship, User
from hiroba.core import audit
from hiroba.core.text import fold
from hiroba.proposals import audit_actions as actions
from hiroba.proposals.models import (
    VoterVerification,
)
from hiroba.proposals.services._common import _keyed, _now
from hiroba.proposals.services.errors import (
    VerificationRefused,
)


def _normalise(text: str) -> str:
    # hyphens, long-vowel marks, middle dots and commas are typed every which way in kana and addresses
    return fold(text, drop="-‐ー－・,，、.")



def identity_key(*, name_kana: str, birth_date: date, address: str) -> str:
    """Who a person is, as a keyed hash: equal for the same name (かな), birth date and address."""
    return _keyed(b"hiroba.proposals.identity/1",
                  f"{_normalise(name_kana)}|{birth_date.isoformat()}|{_normalise(address)}")


@transaction.atomic
def voter_verify(
    *,
    actor: Any,
    display_name: str,
    residency: str,
    method: str = VoterVerification.Method.COUNTER,
    user: User | None = None,
    birth_date: date | None = None,
    name_kana: str = "",
    address: str = "",
    now: datetime | None = None,
) -> VoterVerification:
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
    if method == VoterVerification.Method.COUNTER:
        if clerk is None:
            raise VerificationRefused(_("窓口での本人確認は職員が記録します。"), code="not_staff")
        if not (name_kana.strip() and birth_date and address.strip()):
            raise VerificationRefused(_("窓口での本人確認には、氏名（かな）・生年月日・住所が必要です。"), code="required")
    if name_kana.strip() and birth_date and address.strip():
        key = identity_key(name_kana=name_kana, birth_date=birth_date, address=address)
    if user is None and not key:
        raise VerificationRefused(_("アカウントか、氏名（かな）・生年月日・住所のいずれかで本人を特定してください。"),
                                  code="required")
    if user is not None and VoterVerification.objects.filter(user=user).exists():
        raise VerificationRefused(_("このアカウントはすでに本人確認済みです。"), code="duplicate", field="email")
    same = VoterVerification.objects.select_for_update().filter(identity_key=key).first() if key else None
    if same is not None:
        if same.user_id is not None or user is None:
            raise VerificationRefused(_("この方はすでに本人確認済みです（同じ方を二重に登録することはできません）。"),
                                      code="duplicate")
        same.user = user
        same.save(update_fields=["user"])
        audit.record(actor=actor, action=actions.VOTER_LINK, obj=same, changes={"user": [None, user.pk]})
        return same
    verification = VoterVerification.objects.create(
        user=user, display_name=display_name.strip()[:100] or (user.display_name if user else ""),
        identity_key=key, residency=residency, birth_date=birth_date, method=method,
        verified_at=_now(now), verified_by=clerk,
    )
    audit.record(actor=actor, action=actions.VOTER_VERIFY, obj=verification,
                 changes={"method": method, "residency": residency, "user": user.pk if user else None,
                          "birth_date_recorded": birth_date is not None})
    return verification


@transaction.atomic
def voter_verification_revoke(*, actor: Any, verification: VoterVerification, reason: str) -> VoterVerification:
    """Withdraw a verification (a mistake, a forged document). Votes already cast stay counted."""
    if not reason.strip():
        raise VerificationRefused(_("取消の理由を入力してください。"), code="reason_missing", field="reason")
    verification.revoked_at = timezone.now()
    verification.save(update_fields=["revoked_at"])
    audit.record(actor=actor, action=actions.VOTER_REVOKE, obj=verification, changes={"reason": reason.strip()})
    return verification
