"""hiroba's own records in the register, so the platform follows its own rules: every
public-comment case, proposal call, workshop programme (with its applications) and notice type (with
its batches and delivery proofs) is a
行政文書ファイル of its department with the retention below (the ward's 保存期間表 decides;
these are the values the demo and a new installation start from)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from hiroba.core import audit
from hiroba.core.actors import ActorLike
from hiroba.core.dates import fiscal_year_of
from hiroba.records import audit_actions as actions
from hiroba.records.models import Action, RecordFile, Retention
from hiroba.records.register import FileData
from hiroba.records.services import who

#: model label → (大分類, 中分類, 小分類, 保存期間, 措置, the title field)
SOURCES: dict[str, tuple[str, str, str, int, str, str]] = {
    "consultations.case": ("区民参加", "意見公募手続", "意見募集案件", Retention.TEN, Action.TRANSFER, "title"),
    "proposals.call": ("区民参加", "デジタル活用提案制度", "提案募集", Retention.FIVE, Action.DISPOSE, "title"),
    "workshops.programme": ("区民参加", "ワークショップ", "企画・申込", Retention.THREE, Action.DISPOSE, "title"),
    # one file per notice type: its batches, print runs and the proof of each delivery
    "notices.noticetype": ("広報", "書面送付", "書面の送付記録", Retention.FIVE, Action.DISPOSE, "name"),
}
LOCATION = "hiroba（区民参加プラットフォーム）"


def _models() -> list[tuple[str, Any]]:
    out = []
    for label in SOURCES:
        try:
            out.append((label, apps.get_model(label)))
        except LookupError:  # the module is not installed here
            continue
    return out


@transaction.atomic
def sync(*, actor: ActorLike = "system") -> int:
    """Register what is not registered yet; return how many rows were added."""
    added = 0
    for label, model in _models():
        large, medium, small, retention, action, title_field = SOURCES[label]
        known = set(RecordFile.objects.filter(source_type=label).values_list("source_id", flat=True))
        for obj in model.objects.select_related("department").order_by("pk"):
            if str(obj.pk) in known or getattr(obj, "department_id", None) is None:
                continue
            created = getattr(obj, "created_at", None) or timezone.now()
            fy = fiscal_year_of(created)
            name = f"{getattr(obj, title_field)}"[:280]
            if RecordFile.objects.filter(department_id=obj.department_id, fiscal_year=fy, name=name).exists():
                name = f"{name}（{label.split('.')[0]} {obj.pk}）"
            data = FileData(department=obj.department, fiscal_year=fy, large=large, medium=medium, small=small,
                            name=name, author=obj.department.name, retention=retention, location=LOCATION,
                            manager=f"{obj.department.name}長", action=action,
                            note=f"hiroba {model._meta.verbose_name} #{obj.pk}")
            values = data.values()
            RecordFile.objects.create(**values, source_type=label, source_id=str(obj.pk))
            added += 1
    if added:
        audit.record(actor=who(actor), action=actions.OWN_RECORDS_SYNC, object_type="records.recordfile",
                     changes={"added": added})
    return added

