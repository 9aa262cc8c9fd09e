"""Every write of the consultation workflow: one function per use case, atomic and audited.

Views, the command line, the importer and the demo call these; they validate their input first
(forms) and these functions enforce the business rules (period, state, locks) themselves.

One module per noun: ``cases``, ``sections`` (the draft's headings), ``submissions`` (the intake
path), ``items``, ``masks``, ``answers``, ``routing``, ``approvals`` (決裁), ``publication``,
``submitters`` (the department's own list) and ``impersonation``; ``errors`` holds the exceptions
and ``_common`` what several of them share. Import from here: every name is re-exported.
"""

from hiroba.consultations.services._common import check_table_open, latest_approved_round, latest_published
from hiroba.consultations.services.answers import (
    answer_assign,
    answer_save,
    answer_update,
    answer_write,
    answers_require_open,
    standard_answer_create,
)
from hiroba.consultations.services.approvals import (
    DEFAULT_STEP_LABEL,
    MAX_ROUTE_STEPS,
    RouteStep,
    answer_set_snapshot,
    approval_decide,
    approval_reopen,
    approval_request,
    approval_route,
    approval_route_set,
    may_decide,
)
from hiroba.consultations.services.cases import (
    CASE_FIELDS,
    DETAIL_FIELDS,
    case_create,
    case_set_proof_of_work,
    case_transition,
    case_update_details,
    missing_contacts,
)
from hiroba.consultations.services.errors import AnswersLocked, ConsultationError, PeriodClosed, TableLocked
from hiroba.consultations.services.impersonation import impersonation_report_create, impersonation_review
from hiroba.consultations.services.items import (
    ITEM_FIELDS,
    item_create,
    item_exclude,
    item_include,
    item_update,
    item_withdraw,
)
from hiroba.consultations.services.masks import mask_add, mask_decide, masked_text, masks_detect, masks_propose
from hiroba.consultations.services.publication import case_publish, publication_import, published_file
from hiroba.consultations.services.routing import routing_complete, routing_create
from hiroba.consultations.services.sections import section_add
from hiroba.consultations.services.submissions import (
    Original,
    period_text,
    receipt_mail,
    receipt_number,
    submission_confirm_email,
    submission_receive,
)
from hiroba.consultations.services.submitters import SUBMITTER_HEADERS, submitters_export

__all__ = [
    "AnswersLocked",
    "CASE_FIELDS",
    "ConsultationError",
    "DEFAULT_STEP_LABEL",
    "DETAIL_FIELDS",
    "ITEM_FIELDS",
    "MAX_ROUTE_STEPS",
    "Original",
    "PeriodClosed",
    "RouteStep",
    "SUBMITTER_HEADERS",
    "TableLocked",
    "answer_assign",
    "answer_save",
    "answer_set_snapshot",
    "answer_update",
    "answer_write",
    "answers_require_open",
    "approval_decide",
    "approval_reopen",
    "approval_request",
    "approval_route",
    "approval_route_set",
    "case_create",
    "case_publish",
    "case_set_proof_of_work",
    "case_transition",
    "case_update_details",
    "check_table_open",
    "impersonation_report_create",
    "impersonation_review",
    "item_create",
    "item_exclude",
    "item_include",
    "item_update",
    "item_withdraw",
    "latest_approved_round",
    "latest_published",
    "mask_add",
    "mask_decide",
    "masked_text",
    "masks_detect",
    "masks_propose",
    "may_decide",
    "missing_contacts",
    "period_text",
    "publication_import",
    "published_file",
    "receipt_mail",
    "receipt_number",
    "routing_complete",
    "routing_create",
    "section_add",
    "standard_answer_create",
    "submission_confirm_email",
    "submission_receive",
    "submitters_export",
]
