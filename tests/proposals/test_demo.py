from __future__ import annotations

import pytest
from django.urls import reverse

from hiroba.accounts import demo as accounts_demo
from hiroba.proposals import ballots, demo, exports
from hiroba.proposals.models import Call, FollowUp, Proposal

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded():
    lines: list[str] = []
    accounts_demo.load(lines.append)
    demo.load(lines.append)
    return lines


def test_the_demo_call_shows_the_committee_papers_figures(client, loaded):
    call = Call.objects.get(slug=demo.SLUG)
    result = call.result
    assert (result.applications, result.voters, result.votes) == (95, 665, 1669)
    html = client.get(reverse("proposals:results", args=[call.slug])).content.decode()
    assert 'data-testid="applications">95<' in html and 'data-testid="voters">665<' in html
    assert 'data-testid="votes">1669<' in html and "一致しています" in html
    adopted = set(Proposal.objects.filter(adopted_at__isnull=False).values_list("title", flat=True))
    assert adopted == {"デジタル書面送付サービス", "スクールカレンダーのiCalendar形式での公開"}
    assert FollowUp.objects.filter(status="budgeted").count() == 2
    page = client.get(reverse("proposals:followups")).content.decode()
    assert "令和7年第1回千代田区議会定例会にて予算案の審議" in page
    check = ballots.verify(exports.ballots_document(call), expected_digest=result.digest, expected_tally=result.tally)
    assert check.ok and check.voters == 665 and check.votes == 1669


def test_the_demo_is_idempotent_and_deterministic(loaded):
    call = Call.objects.get(slug=demo.SLUG)
    tally = dict(call.result.tally)
    demo.load(lambda line: None)
    assert Call.objects.filter(slug=demo.SLUG).count() == 1 and Proposal.objects.filter(call=call).count() == 95
    assert call.result.tally == tally
    # The same seed gives the same tally on any machine (the digest differs: sealing uses a fresh salt).
    assert sum(tally.values()) == 1669 and len(tally) == demo.SHORTLIST
