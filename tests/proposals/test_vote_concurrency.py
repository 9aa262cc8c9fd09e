"""Simultaneous requests never give a voter an extra vote (PostgreSQL: real row locks and
concurrent transactions; SQLite serialises writers and cannot show a race)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connections

from hiroba.proposals import services
from hiroba.proposals.models import Ballot, Participation
from tests.proposals.conftest import DURING_SCREENING, DURING_VOTING

# Runs in the PostgreSQL pass of .ci/run (the `postgres` marker, see tests/conftest.py):
# SQLite runs one writer at a time, so no race can happen there.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _run_together(jobs):
    """Start every job at the same instant in its own thread (own connection); collect outcomes."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[str] = [""] * len(jobs)

    def run(i, job):
        try:
            barrier.wait()
            job()
            outcomes[i] = "ok"
        except services.AlreadyProcessed:
            outcomes[i] = "replayed"
        except services.VoteRefused as exc:
            outcomes[i] = exc.code
        except Exception as exc:  # pragma: no cover - reported in the assertion
            outcomes[i] = f"error: {exc!r}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return Counter(outcomes)


@pytest.fixture
def six(call, make_proposal, approver):
    proposals = [make_proposal(call, title=f"提案{i}") for i in range(6)]
    for p in proposals:
        services.proposal_decide(actor=approver, proposal=p, decision="shortlisted", reason="選定",
                                 now=DURING_SCREENING)
    return proposals


def test_simultaneous_votes_never_exceed_the_limit(call, six, make_resident):
    for _ in range(3):
        voter = make_resident()
        # 10 simultaneous requests for 6 different proposals (some twice), from a voter with no vote yet.
        targets = [six[i % 6] for i in range(10)]
        outcomes = _run_together([
            (lambda p=p, v=voter: services.vote_cast(voter=v, call=call, proposal=p, now=DURING_VOTING))
            for p in targets
        ])
        assert outcomes["ok"] == call.votes_per_voter, outcomes
        assert not [o for o in outcomes if o.startswith("error")], outcomes
        part = Participation.objects.get(call=call, user=voter)
        token = services.ballot_token(call.pk, part.pk)
        rows = list(Ballot.objects.filter(call=call, token=token).values_list("proposal_id", flat=True))
        assert part.ballot_count == len(rows) == len(set(rows)) == 3
    assert Participation.objects.filter(call=call).count() == 3
    assert sum(services.tally(call).values()) == 9


def test_simultaneous_replacements_leave_exactly_one_choice_set(call, six, make_resident):
    voter = make_resident()
    sets = [[six[0].pk, six[1].pk, six[2].pk], [six[3].pk, six[4].pk, six[5].pk], [six[0].pk, six[5].pk]] * 3
    outcomes = _run_together([
        (lambda s=s: services.ballot_replace(voter=voter, call=call, proposal_ids=s, now=DURING_VOTING)) for s in sets
    ])
    assert outcomes["ok"] == len(sets), outcomes
    part = Participation.objects.get(call=call, user=voter)
    chosen = sorted(services.my_choices(voter=voter, call=call))
    assert chosen in [sorted(s) for s in sets] and part.ballot_count == len(chosen)


def test_a_request_replayed_simultaneously_counts_once(call, six, make_resident):
    voter = make_resident()
    outcomes = _run_together([
        (lambda: services.vote_cast(voter=voter, call=call, proposal=six[0], idempotency_key="same-key",
                                    now=DURING_VOTING)) for _ in range(8)
    ])
    assert outcomes == Counter({"ok": 1, "replayed": 7}), outcomes
    assert Participation.objects.get(call=call, user=voter).ballot_count == 1
