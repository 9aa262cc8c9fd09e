"""Tally and publication of the results (sealing the ballots first)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hiroba.accounts.models import User
from hiroba.core import audit, pagecache
from hiroba.core.actors import ActorLike
from hiroba.proposals import audit_actions as actions
from hiroba.proposals import ballots as ballot_math
from hiroba.proposals.models import (
    Ballot,
    Call,
    CallResult,
    Participation,
    Proposal,
)
from hiroba.proposals.services._common import _now
from hiroba.proposals.services.errors import (
    ProposalsError,
)


def tally(call: Call) -> dict[int, int]:
    """Votes per proposal, counted from the stored ballots (one GROUP BY on the tally index)."""
    return dict(Ballot.objects.filter(call_id=call.pk).order_by().values_list("proposal_id")
                .annotate(n=Count("*")).values_list("proposal_id", "n"))


def anonymised_ballots(call: Call) -> list[dict[str, Any]]:
    """The ballot set as published: one entry per voter's ballot, choices as 受付番号."""
    receipts = {pk: number for pk, number in call.proposals.exclude(receipt_number=None)
                .values_list("pk", "receipt_number") if number is not None}  # narrows the type only
    grouped: dict[str, list[str]] = {}
    for token, pid in Ballot.objects.filter(call=call).order_by().values_list("token", "proposal_id").iterator(
            chunk_size=5000):
        grouped.setdefault(token, []).append(receipts[pid])
    return [{"ballot": token, "choices": sorted(choices)} for token, choices in sorted(grouped.items())]


def _seal(call: Call) -> None:
    """Replace every token by SHA-256(salt ‖ token) with a salt that is then thrown away: after
    publication not even the holder of the ballot key can tell whose ballot is whose."""
    salt = secrets.token_hex(32)
    table = Ballot._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET token = encode(sha256(convert_to(%s || token, 'UTF8')), 'hex') "  # nosec B608
                "WHERE call_id = %s", [salt, call.pk])
        else:
            connection.ensure_connection()
            connection.connection.create_function(
                "hiroba_seal", 2, lambda s, t: hashlib.sha256((s + t).encode()).hexdigest(), deterministic=True)
            cursor.execute(f"UPDATE {table} SET token = hiroba_seal(%s, token) WHERE call_id = %s", [salt, call.pk])  # nosec B608


@transaction.atomic
def results_publish(*, actor: ActorLike, call: Call, now: datetime | None = None) -> CallResult:
    """After the close: seal the ballots, count them, publish counts, tally and the digest."""
    call = Call.objects.select_for_update().get(pk=call.pk)
    if CallResult.objects.filter(call=call).exists():
        raise ProposalsError(_("結果はすでに公表されています。"), code="published")
    if timezone.localdate(_now(now)) <= call.voting_end:
        raise ProposalsError(_("投票期間が終わるまで結果は公表できません。"), code="too_early")
    # Wait for any vote still in flight on this call, and hold new ones off.
    list(Participation.objects.select_for_update().filter(call=call).values_list("pk", flat=True))
    _seal(call)
    counts = tally(call)
    agg = Participation.objects.filter(call=call, ballot_count__gt=0).aggregate(
        voters=Count("pk"), votes=Sum("ballot_count"),
        online=Count("pk", filter=Q(channel=Participation.Channel.ONLINE)),
        paper=Count("pk", filter=Q(channel=Participation.Channel.PAPER)))
    if (agg["votes"] or 0) != sum(counts.values()):
        raise ProposalsError(_("投票者の票数と保存された票の数が一致しません。集計を中止しました。"), code="tally_mismatch")
    ballot_set = anonymised_ballots(call)
    if len(ballot_set) != agg["voters"]:
        raise ProposalsError(_("投票者数と投票の数が一致しません。集計を中止しました。"), code="tally_mismatch")
    receipts = {pk: number for pk, number in call.proposals.exclude(receipt_number=None)
                .values_list("pk", "receipt_number") if number is not None}  # narrows the type only
    result = CallResult.objects.create(
        call=call, published_at=_now(now), published_by=actor if isinstance(actor, User) else None,
        applications=call.proposals.filter(status=Proposal.Status.SUBMITTED).count(),
        voters=agg["voters"], votes=agg["votes"] or 0, online_voters=agg["online"], paper_voters=agg["paper"],
        tally={receipts[pid]: n for pid, n in sorted(counts.items(), key=lambda kv: receipts[kv[0]])},
        digest=ballot_math.digest(ballot_set),
    )
    pagecache.invalidate("proposals")
    audit.record(actor=actor, action=actions.RESULTS_PUBLISH, obj=call,
                 changes={"applications": result.applications, "voters": result.voters, "votes": result.votes,
                          "digest": result.digest})
    return result
