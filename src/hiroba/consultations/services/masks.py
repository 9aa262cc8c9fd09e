"""Personal information: detected spans masked or flagged, staff decisions, and the masked text."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hiroba.consultations import audit_actions, masking
from hiroba.consultations.models import Item, Mask
from hiroba.consultations.services._common import check_table_open
from hiroba.consultations.services.errors import ConsultationError
from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike

# --- personal information -------------------------------------------------------------------

@transaction.atomic
def masks_detect(*, item: Item, detector: masking.Detector | None = None) -> list[Mask]:
    """Run the detector over the item's text and summary; structured kinds masked, others flagged."""
    check_table_open(item.case, _("個人情報のマスキング"))
    detect = detector or masking.get_detector()
    created: list[Mask] = []
    for field in ("text", "summary"):
        value = getattr(item, field)
        if value:
            created.extend(masks_propose(item=item, field=field, spans=detect(value)))
    return created


def masks_propose(*, item: Item, field: str, spans: Iterable[masking.Span], note: str = "") -> list[Mask]:
    """Mask proposals for detected spans of one field: kinds in `masking.AUTO_KINDS` masked
    (非公開), the others flagged (要確認). A span that already has a mask is left as it is, so
    staff decisions stand; returns the new masks."""
    created: list[Mask] = []
    for span in spans:
        auto = span["kind"] in masking.AUTO_KINDS
        mask, made = Mask.objects.get_or_create(
            item=item, field=field, start=span["start"], end=span["end"],
            defaults={"kind": str(span["kind"])[:30], "source": Mask.Source.AUTO if auto else Mask.Source.FLAG,
                      "decision": Mask.Decision.MASK if auto else Mask.Decision.PENDING, "note": note},
        )
        if made:
            created.append(mask)
    return created


@transaction.atomic
def mask_decide(*, actor: ActorLike, mask: Mask, decision: str, note: str = "") -> Mask:
    """Keep (公開) or hide (非公開) a detected span; undoing an automatic mask is allowed."""
    check_table_open(mask.item.case, _("個人情報のマスキング"))
    if decision not in (Mask.Decision.MASK, Mask.Decision.KEEP):
        raise ConsultationError(_("判断を選んでください。"), code="decision_required")
    before = audit.snapshot(mask, ["decision"])
    mask.decision, mask.note = decision, note[:200]
    mask.decided_by, mask.decided_at = Actor.of(actor).account(), timezone.now()
    mask.save()
    audit.record(actor=actor, action=audit_actions.MASK_DECIDE, obj=mask,
                 changes={**audit.diff(before, audit.snapshot(mask, ["decision"])), "kind": mask.kind,
                          "item": mask.item.number})
    return mask


@transaction.atomic
def mask_add(*, actor: ActorLike, item: Item, field: str, start: int, end: int, note: str = "") -> Mask:
    """Staff hide a span the detector missed."""
    check_table_open(item.case, _("個人情報のマスキング"))
    value = getattr(item, field)
    if not (0 <= start < end <= len(value)):
        raise ConsultationError(_("非公開にする範囲が正しくありません。"), code="mask_span_invalid")
    mask, _created = Mask.objects.update_or_create(
        item=item, field=field, start=start, end=end,
        defaults={"kind": "staff", "source": Mask.Source.STAFF, "decision": Mask.Decision.MASK,
                  "decided_by": Actor.of(actor).account(), "decided_at": timezone.now(), "note": note[:200]},
    )
    audit.record(actor=actor, action=audit_actions.MASK_ADD, obj=mask,
                 changes={"item": item.number, "field": field, "start": start, "end": end})
    return mask


def masked_text(item: Item, field: str = "text") -> str:
    """The text every export uses: masked and still-pending spans replaced."""
    value = getattr(item, field)
    spans = [(m.start, m.end) for m in item.masks.all()
             if m.field == field and m.decision != Mask.Decision.KEEP]
    return masking.apply(value, spans)
