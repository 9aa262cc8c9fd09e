"""hiroba's own posture in the register: the account review and the audit-chain verification.

Both are called as functions (`hiroba.accounts.queries.account_review`,
`hiroba.core.audit.verify_chain`), never through a shell; each check is stored, so the
dashboard shows the latest result without walking the whole chain on every page view.
"""

from __future__ import annotations

from django.db import transaction

from hiroba.accounts.queries import account_review
from hiroba.core import audit
from hiroba.core.actors import ActorLike
from hiroba.security import audit_actions as actions
from hiroba.security.models import PostureCheck


def posture_check(*, actor: ActorLike = "system") -> PostureCheck:
    """Run both checks now and record the result (the verification runs outside the write
    transaction: it reads the whole chain)."""
    from hiroba.security.services import who

    review = account_review()
    chain = audit.verify_chain()
    with transaction.atomic():
        check = PostureCheck.objects.create(
            staff_total=review.staff_total, account_findings=review.counts(),
            account_problems=sum(1 for f in review.findings if f.severity in ("重大", "警告")),
            chain_ok=chain.ok, chain_entries=chain.count, chain_problem="" if chain.ok else chain.message()[:300],
        )
        audit.record(actor=who(actor), action=actions.POSTURE_CHECK, obj=check,
                     changes={"account_problems": check.account_problems, "chain_ok": chain.ok,
                              "chain_entries": chain.count})
    return check


def latest() -> PostureCheck | None:
    return PostureCheck.objects.order_by("-checked_at", "-id").first()
