"""Publication: the approved table stored as the next published version, and imported past results."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.consultations import audit_actions
from hiroba.consultations.models import ApprovalRound, Case, PublishedFile, PublishedResult
from hiroba.consultations.services._common import _pending_masks, latest_approved_round, latest_published
from hiroba.consultations.services.errors import ConsultationError
from hiroba.core import audit, dates, pagecache
from hiroba.core.actors import Actor, ActorLike


def _store_publication(
    *, actor: ActorLike, case: Case, pub: Any, day: date, source: str, round_: ApprovalRound | None, note: str = "",
) -> PublishedResult:
    """Write the next published version: the canonical JSON and the bytes of every format,
    rendered from that JSON exactly as the page will read it."""
    from hiroba.consultations import exports

    previous = latest_published(case)
    if previous is not None and day < previous.reported_on:
        raise ConsultationError(format_lazy(_("訂正日は前の版の公表日（{day}）以降にしてください。"),
                                            day=dates.wareki(previous.reported_on)), code="reported_on_before_previous")
    version = previous.version + 1 if previous else 1
    earlier = previous.data if previous else {}
    pub.version = version
    pub.reported_on = earlier.get("reported_on") or day.isoformat()
    pub.corrections = [*earlier.get("corrections", []),
                       *([{"version": version, "date": day.isoformat(), "note": note}] if previous else [])]
    data = exports.as_dict(pub)
    result = PublishedResult.objects.create(
        case=case, version=version, source=source, approval_round=round_, digest=exports.digest(pub),
        canonical_json=exports.canonical(data), reported_on=day, correction_note=note if previous else "",
        published_by=Actor.of(actor).account(),
    )
    for fmt, content in exports.render_all(exports.from_dict(data)).items():
        PublishedFile.objects.create(result=result, format=fmt, content=content,
                                     sha256=hashlib.sha256(content).hexdigest())
    return result


@transaction.atomic
def case_publish(*, actor: ActorLike, case: Case, reported_on: date | None = None) -> Case:
    """決裁中 (approved) → 公表済: store the approved table as the next published version.

    Needs the latest round approved at every step, every mask reviewed, and the live table
    exactly as approved (same digest). From then on the results page and every download serve
    the stored version; a 訂正 publishes a new version beside it, with its dated note.
    """
    from hiroba.consultations import exports

    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.state != Case.State.APPROVING:
        raise ConsultationError(_("決裁中の案件だけ公表できます。"), code="not_approving")
    approved = latest_approved_round(case)
    latest = case.approval_rounds.order_by("-number").first()
    if approved is None or latest is None or latest.pk != approved.pk:
        raise ConsultationError(_("回答が決裁で承認されていません。"), code="not_approved")
    pending = _pending_masks(case)
    if pending:
        raise ConsultationError(format_lazy(_("個人情報の確認が済んでいない箇所が{count}件あります。"), count=pending),
                                code="masks_pending")
    pub = exports.build(case)
    if exports.digest(pub) != approved.digest:
        changed = exports.row_changes(approved.table, exports.approved_part(pub))
        raise ConsultationError(format_lazy(_("承認後に公表する内容が変わっています（{changed}）。決裁をやり直してください。"),
                                            changed="、".join(changed or [str(_("内容"))])),
                                code="changed_since_approval")
    day = reported_on or timezone.localdate()
    result = _store_publication(actor=actor, case=case, pub=pub, day=day, source=PublishedResult.Source.APPROVAL,
                                round_=approved, note=approved.correction_note)
    case.state = Case.State.PUBLISHED
    case.published_at = result.published_at
    case.reported_on = case.reported_on or day
    case.save(update_fields=["state", "published_at", "reported_on", "updated_at"])
    pagecache.invalidate("consultations")
    audit.record(actor=actor, action=audit_actions.CASE_PUBLISH, obj=case,
                 changes={"state": ["approving", "published"], "round": approved.number, "version": result.version,
                          "digest": result.digest,
                          **({"correction_note": result.correction_note} if result.correction_note else {})})
    return case


@transaction.atomic
def publication_import(*, actor: ActorLike, case: Case) -> PublishedResult:
    """A past case brought in by the importer as published: its table as the paper printed it
    becomes its first published version (no approval round: it was approved at the time)."""
    from hiroba.consultations import exports

    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.published_results.exists():
        raise ConsultationError(_("この案件は既に公表されています。"), code="already_published")
    day = case.reported_on or timezone.localdate()
    result = _store_publication(actor=actor, case=case, pub=exports.build(case), day=day,
                                source=PublishedResult.Source.IMPORT, round_=None)
    pagecache.invalidate("consultations")
    audit.record(actor=actor, action=audit_actions.PUBLICATION_IMPORT, obj=case,
                 changes={"version": result.version, "digest": result.digest})
    return result


def published_file(result: PublishedResult, fmt: str) -> PublishedFile:
    return result.files.get(format=fmt)
