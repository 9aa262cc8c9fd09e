"""Every write about workshops: one function per use case, atomic, audited.

Business-rule refusals raise WorkshopError with a Japanese message meant for the person in front
of the screen (a student, a guardian or staff); nothing is changed when one is raised.

One module per noun; every public name stays importable from `hiroba.workshops.services`.
"""

from hiroba.workshops.services._common import _fill_vacancies, _lapse_unconsented, _period
from hiroba.workshops.services.applications import (
    ApplicationInput,
    _next_receipt_number,
    age_on,
    application_submit,
    application_withdraw,
    duplicate_attempt_record,
    eligibility_problems,
)
from hiroba.workshops.services.attendance import attendance_record
from hiroba.workshops.services.consent import (
    CONSENT_SALT,
    application_consent,
    application_for_consent,
    consent_max_age_seconds,
    consent_request_resend,
    consent_token,
)
from hiroba.workshops.services.errors import DuplicateApplication, WorkshopError
from hiroba.workshops.services.outputs import _Proposals, output_create, outputs_submit_as_proposals
from hiroba.workshops.services.programmes import (
    PROGRAMME_FIELDS,
    RULE_FIELDS,
    programme_create,
    programme_update,
    quota_set,
)
from hiroba.workshops.services.purge import PERSONAL_FIELDS, programme_purge, programmes_purge_due
from hiroba.workshops.services.selection import (
    _apply_allocation,
    _check_selection_time,
    lottery_draw,
    lottery_publish,
    lottery_refusal_record,
    selection_first_come,
)
from hiroba.workshops.services.sessions import SESSION_FIELDS, session_create, session_update

__all__ = [
    "CONSENT_SALT", "PERSONAL_FIELDS", "PROGRAMME_FIELDS", "RULE_FIELDS", "SESSION_FIELDS",
    "ApplicationInput", "DuplicateApplication", "WorkshopError",
    "_Proposals", "_apply_allocation", "_check_selection_time", "_fill_vacancies", "_lapse_unconsented",
    "_next_receipt_number", "_period",
    "age_on", "application_consent", "application_for_consent", "application_submit", "application_withdraw",
    "attendance_record", "consent_max_age_seconds", "consent_request_resend", "consent_token",
    "duplicate_attempt_record", "eligibility_problems", "lottery_draw", "lottery_publish",
    "lottery_refusal_record", "output_create", "outputs_submit_as_proposals", "programme_create",
    "programme_purge", "programme_update", "programmes_purge_due", "quota_set", "selection_first_come",
    "session_create", "session_update",
]
