"""Participants' outputs and their submission as proposals."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike
from hiroba.workshops import audit_actions as actions
from hiroba.workshops.models import (
    Output,
    Programme,
)
from hiroba.workshops.services.errors import WorkshopError


@transaction.atomic
def output_create(*, actor: ActorLike, programme: Programme, title: str, team_label: str, problem: str,
                  idea: str, beneficiaries: str, slides: UploadedFile | None = None) -> Output:
    """Collect one of the participants' outputs (an idea, with slides)."""
    if programme.is_purged:
        raise WorkshopError(_("この企画は終了し、記録が整理済みです。"), "purged")
    output = Output(programme=programme, title=title, team_label=team_label, problem=problem, idea=idea,
                    beneficiaries=beneficiaries, created_by=Actor.of(actor).account())
    if slides is not None:
        output.slides = slides
    output.full_clean()
    output.save()
    # The slides by name: core.audit.snapshot cannot read an empty FileField.
    audit.record(actor=actor, action=actions.OUTPUT_CREATE, obj=output, changes=audit.diff(
        {}, {**audit.snapshot(output, ["title", "team_label"]), "slides": output.slides.name or ""}))
    return output


class _Proposals:
    """The one place workshops meet the proposals module: its public services (and one read).

    Its refusals come back as WorkshopError with the proposals module's own message.
    """

    @staticmethod
    def _services() -> Any:
        from hiroba.proposals import services as proposal_services

        return proposal_services

    @classmethod
    def call_create(cls, *, actor: ActorLike, programme: Programme) -> Any:
        proposals = cls._services()
        try:
            return proposals.call_create(
                actor=actor, department=programme.department, title=f"{programme.title}からの提案",
                theme=programme.purpose, slug=f"workshop-{programme.code}")
        except proposals.ProposalsError as error:
            raise WorkshopError(error.message, "proposals") from error

    @staticmethod
    def call_get(call_id: int) -> Any:
        from django.apps import apps

        return apps.get_model("proposals", "Call").objects.get(pk=call_id)

    @classmethod
    def submit(cls, *, actor: ActorLike, call: Any, programme: Programme, output: Output) -> Any:
        proposals = cls._services()
        label = f"{programme.title} {output.team_label}"
        try:
            return proposals.proposal_submit_on_behalf(
                actor=actor, call=call, title=output.title, problem=output.problem, idea=output.idea,
                beneficiaries=output.beneficiaries, proposer_label=label if len(label) <= 100 else output.team_label,
                source=f"workshop:{programme.code}")
        except proposals.ProposalsError as error:
            raise WorkshopError(format_lazy(_("「{title}」: {message}"), title=output.title, message=error.message),
                                "proposals") from error


@transaction.atomic
def outputs_submit_as_proposals(*, actor: ActorLike, programme: Programme) -> list[Output]:
    """Submit the outputs not yet submitted as proposals, into the programme's own call (提案募集)."""
    programme = Programme.objects.select_for_update().select_related("department").get(pk=programme.pk)
    outputs = list(programme.outputs.filter(proposal_id__isnull=True).order_by("created_at", "pk"))
    if not outputs:
        raise WorkshopError(_("提出していない成果物がありません。"), "nothing_to_submit")
    if programme.proposal_call_id is None:
        call = _Proposals.call_create(actor=actor, programme=programme)
        programme.proposal_call_id = call.pk
    else:
        call = _Proposals.call_get(programme.proposal_call_id)
    now = timezone.now()
    for output in outputs:
        proposal = _Proposals.submit(actor=actor, call=call, programme=programme, output=output)
        output.proposal_id, output.submitted_at = proposal.pk, now
        output.save(update_fields=["proposal_id", "submitted_at"])
    programme.outputs_submitted_at = now
    programme.save(update_fields=["proposal_call_id", "outputs_submitted_at"])
    audit.record(actor=actor, action=actions.OUTPUTS_SUBMIT, obj=programme, changes={
        "call_id": programme.proposal_call_id, "proposal_ids": [o.proposal_id for o in outputs]})
    return outputs
