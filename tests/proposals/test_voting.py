from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, connection

from hiroba.accounts import identity
from hiroba.accounts import services as accounts_services
from hiroba.accounts.models import IdentityLevel, Relationship
from hiroba.core.models import AuditEntry
from hiroba.proposals import services
from hiroba.proposals.models import Ballot, Participation, VoteRequest
from tests.proposals.conftest import (
    AFTER_VOTING,
    DURING_SCREENING,
    DURING_VOTING,
    VOTING_LAST_MOMENT,
    verification_of,
)

pytestmark = pytest.mark.django_db


def _ids(proposals):
    return [p.pk for p in proposals]


def _state(call):
    return (sorted(Ballot.objects.filter(call=call).values_list("proposal_id", "token")),
            sorted(Participation.objects.filter(call=call).values_list("pk", "ballot_count")))


def test_a_verified_resident_votes_and_changes_their_votes_until_the_close(call, shortlisted, make_resident):
    voter = make_resident()
    a, b, c, _ = shortlisted
    services.ballot_replace(voter=voter, call=call, proposal_ids=[a.pk, b.pk], now=DURING_VOTING)
    assert services.my_choices(voter=voter, call=call) == {a.pk, b.pk}
    services.ballot_replace(voter=voter, call=call, proposal_ids=[c.pk], now=VOTING_LAST_MOMENT)
    assert services.my_choices(voter=voter, call=call) == {c.pk}
    assert services.tally(call) == {c.pk: 1}
    assert Participation.objects.get(call=call).ballot_count == 1


def test_it_refuses_votes_after_the_close_and_changes_nothing(call, shortlisted, make_resident):
    voter = make_resident()
    services.ballot_replace(voter=voter, call=call, proposal_ids=[shortlisted[0].pk], now=DURING_VOTING)
    before = _state(call)
    with pytest.raises(services.VoteRefused, match="締め切られました") as exc:
        services.ballot_replace(voter=voter, call=call, proposal_ids=[shortlisted[1].pk], now=AFTER_VOTING)
    assert exc.value.code == "closed"
    with pytest.raises(services.VoteRefused, match="締め切られました"):
        services.vote_cast(voter=voter, call=call, proposal=shortlisted[1], now=AFTER_VOTING)
    assert _state(call) == before


def test_it_refuses_votes_before_voting_opens(call, shortlisted, make_resident):
    with pytest.raises(services.VoteRefused, match="投票期間"):
        services.ballot_replace(voter=make_resident(), call=call, proposal_ids=[shortlisted[0].pk],
                                now=DURING_SCREENING)


def test_it_refuses_more_votes_than_the_limit(call, shortlisted, make_resident, make_proposal, approver):
    voter = make_resident()
    with pytest.raises(services.VoteRefused, match="3票まで"):
        services.ballot_replace(voter=voter, call=call, proposal_ids=_ids(shortlisted), now=DURING_VOTING)
    assert not Ballot.objects.exists()
    for p in shortlisted[:3]:
        services.vote_cast(voter=voter, call=call, proposal=p, now=DURING_VOTING)
    before = _state(call)
    # a fourth shortlisted proposal, to test the limit rather than the target check
    services.proposal_decide(actor=approver, proposal=shortlisted[3], decision="shortlisted", reason="再審査",
                             now=DURING_SCREENING)
    with pytest.raises(services.VoteRefused, match="3票まで") as exc:
        services.vote_cast(voter=voter, call=call, proposal=shortlisted[3], now=DURING_VOTING)
    assert exc.value.code == "limit" and _state(call) == before


def test_it_refuses_two_votes_for_one_proposal(call, shortlisted, make_resident):
    voter = make_resident()
    with pytest.raises(services.VoteRefused, match="1票まで"):
        services.ballot_replace(voter=voter, call=call, proposal_ids=[shortlisted[0].pk] * 2, now=DURING_VOTING)
    services.vote_cast(voter=voter, call=call, proposal=shortlisted[0], now=DURING_VOTING)
    with pytest.raises(services.VoteRefused, match="すでに投票"):
        services.vote_cast(voter=voter, call=call, proposal=shortlisted[0], now=DURING_VOTING)
    assert Participation.objects.get().ballot_count == 1 and Ballot.objects.count() == 1


def test_the_database_refuses_a_second_vote_for_one_proposal_whatever_the_code(call, shortlisted):
    Ballot.objects.create(call=call, proposal=shortlisted[0], token="t" * 64)
    with pytest.raises(IntegrityError):
        Ballot.objects.create(call=call, proposal=shortlisted[0], token="t" * 64)


def test_it_refuses_hidden_and_non_shortlisted_proposals(call, shortlisted, make_resident, handler):
    voter = make_resident()
    with pytest.raises(services.VoteRefused, match="投票の対象ではない"):
        services.ballot_replace(voter=voter, call=call, proposal_ids=[shortlisted[3].pk], now=DURING_VOTING)
    services.proposal_hide(actor=handler, proposal=shortlisted[0], reason="権利侵害の申立て")
    with pytest.raises(services.VoteRefused, match="投票の対象ではない"):
        services.vote_cast(voter=voter, call=call, proposal=shortlisted[0], now=DURING_VOTING)
    assert not Ballot.objects.exists() and not Participation.objects.exists()


def test_it_refuses_an_unverified_account(call, shortlisted, make_resident):
    with pytest.raises(services.VoteRefused, match="本人確認が必要") as exc:
        services.ballot_replace(voter=make_resident(residency=None), call=call, proposal_ids=[shortlisted[0].pk],
                                now=DURING_VOTING)
    assert exc.value.code == "ineligible" and not Participation.objects.exists()


def test_the_verifiers_verification_counts_once_the_counter_records_the_relationship(call, shortlisted,
                                                                                   make_resident, handler):
    voter = make_resident(residency=None)
    card = identity.VerifiedIdentity(verifier="oidc", issuer="https://idp.example", subject="voter-1", name="番号 一")
    accounts_services.resident_verification_store(user=voter, identity=card)
    with pytest.raises(services.VoteRefused, match="在住・在勤・在学の区分がまだ確認できていません") as exc:
        services.vote_cast(voter=voter, call=call, proposal=shortlisted[0], now=DURING_VOTING)
    assert exc.value.code == "ineligible" and not Participation.objects.exists()
    services.voter_verify(actor=handler, user=voter, display_name="番号 一", residency=Relationship.RESIDENT,
                          birth_date=date(1980, 4, 1), name_kana="ばんごう いち", address="千代田区九段南1-9")
    services.vote_cast(voter=voter, call=call, proposal=shortlisted[0], now=DURING_VOTING)
    assert services.tally(call) == {shortlisted[0].pk: 1}
    assert Participation.objects.get().verification == verification_of(voter)


def test_it_refuses_an_unconfirmed_email_when_the_call_asks_for_one(make_call, make_resident, approver,
                                                                   make_proposal):
    call = make_call(voting_identity_level=IdentityLevel.EMAIL)
    p = make_proposal(call)
    services.proposal_decide(actor=approver, proposal=p, decision="shortlisted", reason="良い", now=DURING_SCREENING)
    with pytest.raises(services.VoteRefused, match="メールアドレスの確認"):
        services.vote_cast(voter=make_resident(email_verified=False, residency=None), call=call, proposal=p,
                           now=DURING_VOTING)
    services.vote_cast(voter=make_resident(residency=None), call=call, proposal=p, now=DURING_VOTING)
    assert services.tally(call) == {p.pk: 1}


def test_it_refuses_staff_accounts(call, shortlisted, handler):
    with pytest.raises(services.VoteRefused, match="職員のアカウント"):
        services.vote_cast(voter=handler, call=call, proposal=shortlisted[0], now=DURING_VOTING)


def test_it_checks_residency_and_age_against_the_verification(make_call, make_resident, make_proposal, approver):
    call = make_call(eligible_residencies=[Relationship.RESIDENT, Relationship.STUDENT], min_age=12, max_age=18)
    p = make_proposal(call)
    services.proposal_decide(actor=approver, proposal=p, decision="shortlisted", reason="良い", now=DURING_SCREENING)
    worker = make_resident(residency=Relationship.WORKER, birth_date=date(2010, 1, 1))
    with pytest.raises(services.VoteRefused, match="在住・在学の方"):
        services.vote_cast(voter=worker, call=call, proposal=p, now=DURING_VOTING)
    adult = make_resident(residency=Relationship.RESIDENT, birth_date=date(1990, 1, 1))
    with pytest.raises(services.VoteRefused, match="18歳以下"):
        services.vote_cast(voter=adult, call=call, proposal=p, now=DURING_VOTING)
    child = make_resident(residency=Relationship.RESIDENT, birth_date=date(2014, 7, 26))  # 11 on 2025-07-25
    with pytest.raises(services.VoteRefused, match="12歳以上"):
        services.vote_cast(voter=child, call=call, proposal=p, now=DURING_VOTING)
    student = make_resident(residency=Relationship.STUDENT, birth_date=date(2012, 7, 25))  # 13 today
    services.vote_cast(voter=student, call=call, proposal=p, now=DURING_VOTING)
    assert services.tally(call) == {p.pk: 1}


def test_a_replayed_request_changes_nothing(call, shortlisted, make_resident):
    voter = make_resident()
    services.ballot_replace(voter=voter, call=call, proposal_ids=[shortlisted[0].pk], idempotency_key="k1",
                            now=DURING_VOTING)
    before = _state(call)
    with pytest.raises(services.AlreadyProcessed, match="すでに受け付けています"):
        services.ballot_replace(voter=voter, call=call, proposal_ids=[shortlisted[1].pk], idempotency_key="k1",
                                now=DURING_VOTING)
    with pytest.raises(services.AlreadyProcessed):
        services.vote_cast(voter=voter, call=call, proposal=shortlisted[1], idempotency_key="k1", now=DURING_VOTING)
    assert _state(call) == before and VoteRequest.objects.count() == 1


def test_a_refused_request_does_not_burn_its_key(call, shortlisted, make_resident):
    voter = make_resident()
    with pytest.raises(services.VoteRefused):
        services.ballot_replace(voter=voter, call=call, proposal_ids=[shortlisted[3].pk], idempotency_key="k2",
                                now=DURING_VOTING)
    services.ballot_replace(voter=voter, call=call, proposal_ids=[shortlisted[0].pk], idempotency_key="k2",
                            now=DURING_VOTING)
    assert services.tally(call) == {shortlisted[0].pk: 1}


def test_a_vote_can_be_withdrawn(call, shortlisted, make_resident):
    voter = make_resident()
    services.vote_cast(voter=voter, call=call, proposal=shortlisted[0], now=DURING_VOTING)
    services.vote_withdraw(voter=voter, call=call, proposal=shortlisted[0], now=DURING_VOTING)
    assert services.tally(call) == {} and Participation.objects.get().ballot_count == 0
    with pytest.raises(services.VoteRefused, match="投票していません"):
        services.vote_withdraw(voter=voter, call=call, proposal=shortlisted[0], now=DURING_VOTING)


class TestSecrecy:
    def test_ballots_hold_no_voter_and_no_time(self):
        columns = {f.column for f in Ballot._meta.concrete_fields}
        assert columns == {"id", "call_id", "proposal_id", "token"}
        participation_columns = {f.column for f in Participation._meta.concrete_fields}
        assert not participation_columns & {"proposal_id", "token", "created_at", "updated_at"}

    def test_the_token_cannot_be_matched_to_a_voter_from_the_database_alone(self, call, shortlisted, make_resident):
        voters = [make_resident() for _ in range(3)]
        for v in voters:
            services.vote_cast(voter=v, call=call, proposal=shortlisted[0], now=DURING_VOTING)
        tokens = set(Ballot.objects.values_list("token", flat=True))
        stored = set()
        for row in Participation.objects.values():
            stored.update(str(value) for value in row.values())
        for row in Participation.objects.select_related("user").all():
            stored.update({row.user.email, str(row.user.pk)})
        assert not tokens & stored
        import hashlib

        guesses = {hashlib.sha256(f"{call.pk}:{p}".encode()).hexdigest() for p in
                   Participation.objects.values_list("pk", flat=True)}
        assert not tokens & guesses

    def test_votes_are_not_in_the_audit_log(self, call, shortlisted, make_resident):
        voter = make_resident()
        services.ballot_replace(voter=voter, call=call, proposal_ids=[shortlisted[0].pk], now=DURING_VOTING)
        assert not AuditEntry.objects.filter(actor_id=voter.pk, action__startswith="proposals.").exists()
        assert not AuditEntry.objects.filter(object_type="proposals.ballot").exists()


class TestPaperBallots:
    def test_staff_enter_a_paper_ballot_for_a_person_without_an_account(self, call, shortlisted, handler):
        person = services.voter_verify(actor=handler, display_name="窓口 太郎", residency=Relationship.RESIDENT,
                                       name_kana="まどぐち たろう", birth_date=date(1950, 5, 5),
                                       address="千代田区九段南1-2-1")
        part = services.paper_ballot_enter(actor=handler, call=call, verification=person,
                                           proposal_ids=[shortlisted[0].pk, shortlisted[1].pk],
                                           received_on=date(2025, 7, 25), now=DURING_VOTING)
        assert part.channel == "paper" and part.ballot_count == 2 and part.entered_by == handler
        assert services.tally(call) == {shortlisted[0].pk: 1, shortlisted[1].pk: 1}
        entry = AuditEntry.objects.get(action="proposals.paper_ballot_enter")
        assert entry.changes["votes"] == 2
        assert str(shortlisted[0].pk) not in str(entry.changes) or entry.changes.keys() == {
            "verification", "votes", "received_on"}

    def test_the_same_person_cannot_be_registered_twice(self, handler):
        services.voter_verify(actor=handler, display_name="窓口 太郎", residency=Relationship.RESIDENT,
                              name_kana="マドグチ タロウ", birth_date=date(1950, 5, 5), address="千代田区九段南1-2-1")
        with pytest.raises(services.VerificationRefused, match="二重に登録"):
            services.voter_verify(actor=handler, display_name="窓口太郎", residency=Relationship.RESIDENT,
                                  name_kana="まどぐち　たろう", birth_date=date(1950, 5, 5),
                                  address="千代田区九段南１－２－１")

    def test_an_online_voter_cannot_also_vote_on_paper(self, call, shortlisted, make_resident, handler):
        voter = make_resident()
        services.vote_cast(voter=voter, call=call, proposal=shortlisted[0], now=DURING_VOTING)
        with pytest.raises(services.VoteRefused, match="すでに投票"):
            services.paper_ballot_enter(actor=handler, call=call, verification=verification_of(voter),
                                        proposal_ids=[shortlisted[1].pk], received_on=date(2025, 7, 25),
                                        now=DURING_VOTING)
        assert services.tally(call) == {shortlisted[0].pk: 1}

    def test_a_paper_voter_cannot_also_vote_online(self, call, shortlisted, make_resident, handler):
        voter = make_resident()
        services.paper_ballot_enter(actor=handler, call=call, verification=verification_of(voter),
                                    proposal_ids=[shortlisted[1].pk], received_on=date(2025, 7, 25),
                                    now=DURING_VOTING)
        with pytest.raises(services.VoteRefused, match="紙の投票用紙で投票済み"):
            services.ballot_replace(voter=voter, call=call, proposal_ids=[shortlisted[0].pk], now=DURING_VOTING)
        assert services.tally(call) == {shortlisted[1].pk: 1}

    def test_a_person_verified_at_the_counter_who_then_signs_up_is_linked_not_duplicated(
            self, call, shortlisted, make_resident, handler):
        person = services.voter_verify(actor=handler, display_name="窓口 花子", residency=Relationship.WORKER,
                                       name_kana="まどぐち はなこ", birth_date=date(1970, 1, 2), address="千代田区1")
        services.paper_ballot_enter(actor=handler, call=call, verification=person, proposal_ids=[shortlisted[0].pk],
                                    received_on=date(2025, 7, 24), now=DURING_VOTING)
        account = make_resident(residency=None)
        linked = services.voter_verify(actor=handler, user=account, display_name="窓口 花子", residency=Relationship.WORKER,
                                       name_kana="まどぐち はなこ", birth_date=date(1970, 1, 2), address="千代田区1")
        assert linked.pk == person.pk
        with pytest.raises(services.VoteRefused, match="紙の投票用紙"):
            services.vote_cast(voter=account, call=call, proposal=shortlisted[1], now=DURING_VOTING)

    def test_ballots_received_after_the_close_are_refused(self, call, shortlisted, make_resident, handler):
        voter = make_resident()
        with pytest.raises(services.VoteRefused, match="投票期間内に受け付けた"):
            services.paper_ballot_enter(actor=handler, call=call, verification=verification_of(voter),
                                        proposal_ids=[shortlisted[0].pk], received_on=date(2025, 8, 5),
                                        now=AFTER_VOTING)
        # …but one received on the last day may still be entered the next morning.
        services.paper_ballot_enter(actor=handler, call=call, verification=verification_of(voter),
                                    proposal_ids=[shortlisted[0].pk], received_on=date(2025, 8, 4), now=AFTER_VOTING)
        assert services.tally(call) == {shortlisted[0].pk: 1}


def test_the_tally_is_one_group_by_over_the_ballots(call, shortlisted, make_resident, django_assert_num_queries):
    for i in range(3):
        services.ballot_replace(voter=make_resident(), call=call, proposal_ids=[shortlisted[0].pk, shortlisted[i].pk]
                                if i else [shortlisted[0].pk], now=DURING_VOTING)
    with django_assert_num_queries(1) as ctx:
        counts = services.tally(call)
    assert counts == {shortlisted[0].pk: 3, shortlisted[1].pk: 1, shortlisted[2].pk: 1}
    assert "GROUP BY" in ctx.captured_queries[0]["sql"]
    assert connection.vendor in ("sqlite", "postgresql")
