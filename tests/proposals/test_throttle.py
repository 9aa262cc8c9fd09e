"""Proposals and votes are rate-limited per address and per account (issue 13.8)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hiroba.proposals.models import Proposal
from tests.proposals.conftest import DURING_SUBMISSION, DURING_VOTING
from tests.proposals.test_views import FORM

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight(settings):
    settings.HIROBA_RATE_LIMITS = {**settings.HIROBA_RATE_LIMITS, "proposals.submit": "100/h/ip,3/h/key",
                                   "proposals.vote": "100/10m/ip,2/10m/key"}


def test_saving_proposals_is_limited_per_account(client, call, make_resident, time_machine, tight):
    time_machine.move_to(DURING_SUBMISSION, tick=False)
    client.force_login(make_resident(residency=None))
    url = reverse("proposals:propose", args=[call.slug])
    statuses = [client.post(url, {**FORM, "title": f"提案{i}"}).status_code for i in range(4)]
    assert statuses == [302, 302, 302, 429]
    assert Proposal.objects.count() == 3


def test_votes_are_limited_per_account_and_say_when_to_retry(client, call, shortlisted, make_resident, time_machine,
                                                              tight):
    time_machine.move_to(DURING_VOTING, tick=False)
    client.force_login(make_resident())
    url = reverse("proposals:vote", args=[call.slug])
    responses = [client.post(url, {"proposals": [str(shortlisted[i % 2].pk)], "idempotency_key": f"{i:032x}"})
                 for i in range(3)]
    assert [r.status_code for r in responses] == [302, 302, 429]
    assert responses[-1]["Retry-After"] == "600"  # the 10-minute window started on the hour
