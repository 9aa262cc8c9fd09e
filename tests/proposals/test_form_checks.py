"""The proposal form: honeypot (13.8), a NUL character explained as such (13.14), the vote form's
hidden field in Japanese (13.14)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hiroba.proposals.models import Proposal
from tests.proposals.conftest import DURING_SUBMISSION, DURING_VOTING
from tests.proposals.test_views import FORM

pytestmark = pytest.mark.django_db


def test_a_bot_filling_the_honeypot_stores_nothing(client, call, make_resident, time_machine):
    time_machine.move_to(DURING_SUBMISSION, tick=False)
    client.force_login(make_resident(residency=None))
    response = client.post(reverse("proposals:propose", args=[call.slug]), {**FORM, "website": "spam"})
    assert response.status_code == 400 and "この欄は空のままにしてください" in response.content.decode()
    assert not Proposal.objects.exists()


def test_a_nul_in_the_title_is_named_for_what_it_is(client, call, make_resident, time_machine):
    time_machine.move_to(DURING_SUBMISSION, tick=False)
    client.force_login(make_resident(residency=None))
    response = client.post(reverse("proposals:propose", args=[call.slug]), {**FORM, "title": "区報\x00アプリ"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "使用できない文字（NUL文字）が含まれています" in html and "何か文字を入力してください" not in html
    assert not Proposal.objects.exists()


def test_a_vote_without_its_hidden_key_is_explained_in_japanese(client, call, shortlisted, make_resident,
                                                                time_machine):
    time_machine.move_to(DURING_VOTING, tick=False)
    client.force_login(make_resident())
    response = client.post(reverse("proposals:vote", args=[call.slug]), {"proposals": [str(shortlisted[0].pk)]})
    html = response.content.decode()
    assert response.status_code == 400 and "Idempotency" not in html
    assert "送信内容が正しくありません" in html
