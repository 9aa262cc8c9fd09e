"""The draft's headings (the section tree residents point their opinions at)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.consultations import audit_actions
from hiroba.consultations.models import Case, Section
from hiroba.consultations.services._common import check_table_open
from hiroba.consultations.services.errors import ConsultationError
from hiroba.core import audit, pagecache
from hiroba.core.actors import ActorLike


@transaction.atomic
def section_add(
    *, actor: ActorLike, case: Case, heading: str, body: str = "", number: str = "", parent: Section | None = None,
    page: int | None = None,
) -> Section:
    """Add a heading of the draft (the section tree residents point their opinions at)."""
    check_table_open(case, _("該当箇所の見出し"))
    if parent is not None and parent.case_id != case.pk:
        raise ConsultationError(_("上位の箇所は同じ案件から選んでください。"), code="parent_other_case")
    if case.sections.filter(heading=heading).exists():
        raise ConsultationError(format_lazy(_("見出し「{heading}」は既に登録されています。"), heading=heading),
                                code="heading_duplicate", field="heading")
    position = (case.sections.aggregate(m=Max("position"))["m"] or 0) + 1
    section = Section.objects.create(case=case, heading=heading, body=body, number=number, parent=parent,
                                     page=page, position=position)
    pagecache.invalidate("consultations")
    audit.record(actor=actor, action=audit_actions.SECTION_ADD, obj=section,
                 changes={"case": case.slug, "heading": heading})
    return section
