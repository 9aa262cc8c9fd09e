"""Voting: eligibility, online votes (cast, withdraw, replace) and paper ballots entered by staff."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.accounts import identity
from hiroba.accounts.models import IdentityLevel, ResidentVerification, User
from hiroba.core import audit
from hiroba.core.actors import ActorLike
from hiroba.proposals import audit_actions as actions
from hiroba.proposals.models import (
    Ballot,
    Call,
    CallResult,
    Participation,
    Proposal,
    ScreeningDecision,
    VoteRequest,
)
from hiroba.proposals.services._common import _jp, _keyed, _now
from hiroba.proposals.services.errors import (
    AlreadyProcessed,
    VoteRefused,
)


@dataclass(frozen=True)
class Eligibility:
    ok: bool
    reason: str | Promise = ""  # a lazy translated message
    verification: ResidentVerification | None = None


def _person_eligibility(call: Call, verification: ResidentVerification | None, now: datetime | None) -> Eligibility:
    if verification is None or not verification.is_valid:
        if call.voting_identity_level == IdentityLevel.VERIFIED:
            return Eligibility(False, _("この募集の投票には本人確認が必要です。区役所の窓口で本人確認を受けてください。"))
        return Eligibility(True, verification=None)
    if not verification.residency:  # the verifier vouches for who, not for the tie to the ward
        return Eligibility(False, _("在住・在勤・在学の区分がまだ確認できていません。区役所の窓口で確認を受けてください。"),
                           verification)
    if verification.residency not in call.eligible_residencies:
        with translation.override("ja"):  # the reason is a Japanese sentence
            allowed = "・".join(call.residency_labels())
        return Eligibility(False, format_lazy(_("この募集に投票できるのは{allowed}の方です。"), allowed=allowed), verification)
    if call.min_age is not None or call.max_age is not None:
        age = verification.age_on(timezone.localdate(_now(now)))
        if age is None:
            return Eligibility(False, _("生年月日が確認できないため、年齢の条件を満たすか確かめられません。"), verification)
        if call.min_age is not None and age < call.min_age:
            return Eligibility(False, format_lazy(_("この募集に投票できるのは{age}歳以上の方です。"), age=call.min_age),
                               verification)
        if call.max_age is not None and age > call.max_age:
            return Eligibility(False, format_lazy(_("この募集に投票できるのは{age}歳以下の方です。"), age=call.max_age),
                               verification)
    return Eligibility(True, verification=verification)


def voter_eligibility(*, user: Any, call: Call, now: datetime | None = None) -> Eligibility:
    """May this account vote online in this call? With the reason when not.

    One query in the common case (a verified person): the verification, with whether the account's
    e-mail address is confirmed.
    """
    if not getattr(user, "is_authenticated", False):
        return Eligibility(False, _("投票するにはログインしてください。"))
    if not user.is_resident:
        return Eligibility(False, _("投票は区民等のアカウントで行ってください（職員のアカウントでは投票できません）。"))
    verification = identity.stored_verification(user)  # the resident's one verification (accounts)
    needs_email = IdentityLevel.rank(call.voting_identity_level) >= IdentityLevel.rank(IdentityLevel.EMAIL)
    if needs_email:
        confirmed = verification.email_confirmed if verification is not None else identity.email_confirmed(user)
        if not confirmed:
            return Eligibility(False, _("メールアドレスの確認が済んでいません。確認メールのリンクを開いてください。"))
    return _person_eligibility(call, verification, now)


def ballot_token(call_id: int, participation_id: int) -> str:
    """The voter's pseudonym on ballot rows: an HMAC with a key that is not in the database."""
    return _keyed(b"hiroba.proposals.ballot-token/1", f"{call_id}:{participation_id}")


def _voting_open(call: Call, now: datetime | None) -> None:
    if not call.is_voting_open(now):
        if timezone.localdate(_now(now)) > call.voting_end:
            raise VoteRefused(format_lazy(_("投票は{end}に締め切られました。投票の内容は変更されていません。"), end=_jp(call.voting_end)),
                              code="closed")
        raise VoteRefused(format_lazy(_("投票期間（{start}〜{end}）ではありません。"), start=_jp(call.voting_start),
                                      end=_jp(call.voting_end)),
                          code="closed")
    # Results are published only after the close, and publication locks every participation row
    # first, so the date check is enough here (no query on the hot path).


def _check_targets(call: Call, proposal_ids: Sequence[int]) -> None:
    if len(set(proposal_ids)) != len(proposal_ids):
        raise VoteRefused(_("1つの提案に投票できるのは1票までです。"), code="duplicate", field="proposals")
    if len(proposal_ids) > call.votes_per_voter:
        raise VoteRefused(format_lazy(_("投票できるのは1人{max}票までです（{chosen}件選ばれています）。"),
                                      max=call.votes_per_voter, chosen=len(proposal_ids)),
                          code="limit", field="proposals")
    if not proposal_ids:
        return
    valid = set(Proposal.objects.filter(
        call=call, pk__in=proposal_ids, status=Proposal.Status.SUBMITTED, hidden_at__isnull=True,
        screening_decision=ScreeningDecision.SHORTLISTED,
    ).values_list("pk", flat=True))
    if valid != set(proposal_ids):
        raise VoteRefused(_("投票の対象ではない提案（審査で選ばれていない、または非公開の提案）が含まれています。"),
                          code="not_shortlisted")


def _online_participation(call: Call, user: User, verification: ResidentVerification | None) -> Participation:
    """The voter's participation row, created if need be, locked (SELECT … FOR UPDATE)."""
    lookup = Q(user=user) | Q(verification=verification) if verification else Q(user=user)
    part = Participation.objects.select_for_update().filter(lookup, call=call).first()
    if part is None:
        try:
            with transaction.atomic():
                # Our own new row: locked by this transaction until it commits.
                part = Participation.objects.create(call=call, user=user, verification=verification)
        except IntegrityError:
            # A concurrent first vote created it: take that row (now committed) and lock it.
            part = Participation.objects.select_for_update().filter(lookup, call=call).get()
    if part.channel == Participation.Channel.PAPER:
        raise VoteRefused(_("紙の投票用紙で投票済みのため、オンラインでは投票できません。"), code="paper")
    if verification is not None and part.verification_id is None:
        part.verification = verification
        part.save(update_fields=["verification"])
    return part


def _claim(part: Participation, idempotency_key: str | None) -> None:
    if not idempotency_key:
        return
    try:
        with transaction.atomic():
            VoteRequest.objects.create(participation=part, key=str(idempotency_key)[:64])
    except IntegrityError:
        raise AlreadyProcessed(
            _("この送信はすでに受け付けています（二重送信のため、投票の内容は変わっていません）。")) from None


def _prepare_online(*, voter: Any, call: Call, now: datetime | None) -> tuple[Participation, str]:
    eligibility = voter_eligibility(user=voter, call=call, now=now)
    if not eligibility.ok:
        raise VoteRefused(eligibility.reason, code="ineligible")
    part = _online_participation(call, voter, eligibility.verification)
    return part, ballot_token(call.pk, part.pk)


@transaction.atomic
def ballot_replace(*, voter: Any, call: Call, proposal_ids: Sequence[int], idempotency_key: str | None = None,
                   now: datetime | None = None) -> Participation:
    """Set the voter's choices to exactly `proposal_ids` (vote, change or withdraw), until the close."""
    proposal_ids = [int(p) for p in proposal_ids]
    _voting_open(call, now)
    _check_targets(call, proposal_ids)
    part, token = _prepare_online(voter=voter, call=call, now=now)
    _claim(part, idempotency_key)
    if part.ballot_count:
        Ballot.objects.filter(call=call, token=token).delete()
    Ballot.objects.bulk_create([Ballot(call=call, proposal_id=pid, token=token) for pid in sorted(proposal_ids)])
    Participation.objects.filter(pk=part.pk).update(ballot_count=len(proposal_ids))
    part.ballot_count = len(proposal_ids)
    return part


@transaction.atomic
def vote_cast(*, voter: Any, call: Call, proposal: Proposal | int, idempotency_key: str | None = None,
              now: datetime | None = None) -> Participation:
    """Add one vote for one proposal. Exact under concurrency: the participation row is locked and
    the count rises only through `UPDATE … WHERE ballot_count < limit`; the unique (call, token,
    proposal) constraint refuses a second vote for the same proposal."""
    pid = proposal if isinstance(proposal, int) else proposal.pk
    _voting_open(call, now)
    _check_targets(call, [pid])
    part, token = _prepare_online(voter=voter, call=call, now=now)
    _claim(part, idempotency_key)
    raised = Participation.objects.filter(pk=part.pk, ballot_count__lt=call.votes_per_voter).update(
        ballot_count=F("ballot_count") + 1)
    if not raised:
        raise VoteRefused(format_lazy(_("投票できるのは1人{max}票までです。票を変更するには、先にほかの提案への投票を取り消してください。"),
                                      max=call.votes_per_voter),
                          code="limit")
    # One round trip, no savepoint: the unique (call, token, proposal) constraint decides.
    table = Ballot._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, call_id, proposal_id, token) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (call_id, token, proposal_id) DO NOTHING RETURNING id",  # nosec B608
            [uuid.uuid4().hex if connection.vendor == "sqlite" else uuid.uuid4(), call.pk, pid, token])
        inserted = cursor.fetchone() is not None
    if not inserted:
        raise VoteRefused(_("この提案にはすでに投票しています（1つの提案には1票まで）。"), code="duplicate")
    part.ballot_count += 1  # read under the row lock, so exact
    return part


@transaction.atomic
def vote_withdraw(*, voter: Any, call: Call, proposal: Proposal | int, idempotency_key: str | None = None,
                  now: datetime | None = None) -> Participation:
    """Take back one vote until the close."""
    pid = proposal if isinstance(proposal, int) else proposal.pk
    _voting_open(call, now)
    part, token = _prepare_online(voter=voter, call=call, now=now)
    _claim(part, idempotency_key)
    deleted, _by_model = Ballot.objects.filter(call=call, token=token, proposal_id=pid).delete()
    if not deleted:
        raise VoteRefused(_("この提案には投票していません。"), code="not_voted")
    Participation.objects.filter(pk=part.pk).update(ballot_count=F("ballot_count") - 1)
    part.ballot_count -= 1
    return part


def my_choices(*, voter: Any, call: Call) -> set[int]:
    """The proposals this voter has voted for (only the voter's own key can find them)."""
    part = Participation.objects.filter(call=call, user=voter).first() if getattr(voter, "pk", None) else None
    if part is None:
        return set()
    return set(Ballot.objects.filter(call=call, token=ballot_token(call.pk, part.pk))
               .values_list("proposal_id", flat=True))


@transaction.atomic
def paper_ballot_enter(*, actor: ActorLike, call: Call, verification: ResidentVerification, proposal_ids: Sequence[int],
                       received_on: date, now: datetime | None = None) -> Participation:
    """Enter a paper ballot collected at a counter, tied to a verified person: that person can then
    no longer vote online (and somebody who voted online cannot hand in paper)."""
    proposal_ids = [int(p) for p in proposal_ids]
    if CallResult.objects.filter(call=call).exists():
        raise VoteRefused(_("結果が公表されたため、紙の投票を入力できません。"), code="closed")
    if not call.voting_start <= received_on <= call.voting_end:
        raise VoteRefused(_("投票期間内に受け付けた投票用紙ではありません。"), code="closed", field="received_on")
    if received_on > timezone.localdate(_now(now)):
        raise VoteRefused(_("受付日が未来の日付です。"), code="future_date", field="received_on")
    if not proposal_ids:
        raise VoteRefused(_("投票先が選ばれていません（白票は入力しません）。"), code="required", field="proposals")
    _check_targets(call, proposal_ids)
    verification = ResidentVerification.objects.select_for_update().get(pk=verification.pk)
    eligibility = _person_eligibility(call, verification, now)
    if not verification.is_valid:
        raise VoteRefused(_("本人確認が取り消されています。"), code="ineligible")
    if not eligibility.ok:
        raise VoteRefused(eligibility.reason, code="ineligible")
    lookup = Q(verification=verification) | (Q(user_id=verification.user_id) if verification.user_id else Q(pk=None))
    if Participation.objects.select_for_update().filter(lookup, call=call).exists():
        raise VoteRefused(_("この方はすでに投票しています（オンラインまたは紙）。二重に投票することはできません。"),
                          code="already_voted")
    clerk = actor if isinstance(actor, User) else None
    try:
        with transaction.atomic():
            part = Participation.objects.create(
                call=call, user_id=verification.user_id, verification=verification,
                channel=Participation.Channel.PAPER, ballot_count=len(proposal_ids), entered_by=clerk)
    except IntegrityError:
        raise VoteRefused(_("この方はすでに投票しています（オンラインまたは紙）。"), code="already_voted") from None
    token = ballot_token(call.pk, part.pk)
    Ballot.objects.bulk_create([Ballot(call=call, proposal_id=pid, token=token) for pid in sorted(proposal_ids)])
    # The audit entry says who entered a paper ballot for whom, and how many votes — not for what.
    audit.record(actor=actor, action=actions.PAPER_BALLOT_ENTER, obj=part,
                 changes={"verification": verification.pk, "votes": len(proposal_ids),
                          "received_on": received_on.isoformat()})
    return part
