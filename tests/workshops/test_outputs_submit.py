"""outputs_submit_as_proposals: the participants' outputs go into a call of their own (proposals)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied

from hiroba.accounts.models import Role
from hiroba.core.models import AuditEntry
from hiroba.workshops import services
from hiroba.workshops.services import WorkshopError

pytestmark = pytest.mark.django_db


def _stored_call(pk, department):
    """A bare proposals row with the fake's id: the workshops' foreign keys point at real rows."""
    from datetime import date

    from hiroba.proposals.models import Call

    return Call.objects.get_or_create(pk=pk, defaults=dict(
        department_id=department, slug=f"fake-{pk}", title="募集", theme="テーマ", receipt_prefix=f"F{pk}",
        submission_start=date(2025, 1, 1), submission_end=date(2025, 1, 31), voting_start=date(2025, 2, 1),
        voting_end=date(2025, 2, 10), results_on=date(2025, 2, 20), implementation_on=date(2025, 3, 1)))[0]


class FakeProposals:
    """Stands in for workshops' adapter to hiroba.proposals: our side on its own (the rows it
    returns exist only so the foreign keys hold; the proposals services are not called)."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.proposals: list[dict] = []

    def call_create(self, *, actor, programme):
        self.calls.append({"department": programme.department_id, "title": f"{programme.title}からの提案"})
        return SimpleNamespace(pk=_stored_call(100 + len(self.calls), programme.department_id).pk)

    def call_get(self, call_id):
        return SimpleNamespace(pk=call_id)

    def submit(self, *, actor, call, programme, output):
        self.proposals.append({"call": call.pk, "title": output.title,
                               "label": f"{programme.title} {output.team_label}"})
        from hiroba.proposals.models import Proposal

        stored = Proposal.objects.create(pk=500 + len(self.proposals), call_id=call.pk, title=output.title,
                                         problem=output.problem, idea=output.idea,
                                         beneficiaries=output.beneficiaries, entered_by=actor)
        return SimpleNamespace(pk=stored.pk)


@pytest.fixture
def proposals(monkeypatch):
    fake = FakeProposals()
    monkeypatch.setattr(services.outputs, "_Proposals", fake)
    return fake


def _output(programme, clerk, title="防災マップ"):
    return services.output_create(actor=clerk, programme=programme, title=title, team_label="Aグループ",
                                  problem="逃げる場所が分からない", idea="スマホの地図", beneficiaries="中学生と家族")


def test_outputs_become_proposals_in_one_call(programme, make_staff, proposals):
    clerk = make_staff().user
    _output(programme, clerk, "防災マップ")
    _output(programme, clerk, "スタンプラリー")
    submitted = services.outputs_submit_as_proposals(actor=clerk, programme=programme)
    programme.refresh_from_db()
    assert programme.proposal_call_id == 101 and len(proposals.calls) == 1
    assert [o.proposal_id for o in submitted] == [501, 502]
    assert proposals.proposals[0]["label"] == "令和7年度 中学生デジタルワークショップ Aグループ"
    assert AuditEntry.objects.get(action="workshops.outputs_submit").changes["proposal_ids"] == [501, 502]
    # A later output joins the same call; nothing is submitted twice.
    _output(programme, clerk, "見守り")
    services.outputs_submit_as_proposals(actor=clerk, programme=programme)
    assert len(proposals.calls) == 1 and [p["call"] for p in proposals.proposals] == [101, 101, 101]
    with pytest.raises(WorkshopError) as error:
        services.outputs_submit_as_proposals(actor=clerk, programme=programme)
    assert "提出していない成果物がありません" in error.value.message


def test_an_output_is_audited_without_a_slides_file(programme, make_staff):
    output = _output(programme, make_staff().user)
    entry = AuditEntry.objects.get(action="workshops.output_create")
    assert entry.object_id == str(output.pk) and entry.changes["slides"] == [None, ""]


def test_outputs_become_real_proposals_in_a_call_of_their_own(programme, make_staff):
    proposal_services = pytest.importorskip("hiroba.proposals.services")
    from hiroba.proposals.models import Call, Proposal

    clerk = make_staff().user
    _output(programme, clerk, "防災マップ")
    submitted = services.outputs_submit_as_proposals(actor=clerk, programme=programme)
    programme.refresh_from_db()
    call = Call.objects.get(pk=programme.proposal_call_id)
    assert call.slug == "workshop-r7-jhs" and call.department_id == programme.department_id
    assert call.title == "令和7年度 中学生デジタルワークショップからの提案"
    proposal = Proposal.objects.get(pk=submitted[0].proposal_id)
    assert (proposal.call_id, proposal.title, proposal.source) == (call.pk, "防災マップ", "workshop:r7-jhs")
    assert proposal.proposer_label == "令和7年度 中学生デジタルワークショップ Aグループ"
    assert AuditEntry.objects.filter(action="proposals.proposal_submit_on_behalf").count() == 1
    assert proposal_services  # the real module, not the stand-in


def test_a_refusal_by_proposals_comes_back_in_japanese_and_nothing_is_kept(programme, make_staff):
    pytest.importorskip("hiroba.proposals.services")
    from hiroba.proposals.models import Call

    viewer = make_staff(email="viewer@example.jp", role=Role.READ).user  # may not enter proposals
    _output(programme, make_staff().user)
    with pytest.raises(PermissionDenied):
        services.outputs_submit_as_proposals(actor=viewer, programme=programme)
    programme.refresh_from_db()
    assert programme.proposal_call_id is None and not Call.objects.exists()
    assert not programme.outputs.filter(proposal_id__isnull=False).exists()
