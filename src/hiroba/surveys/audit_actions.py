"""Audit action names of the surveys app."""

SURVEY_CREATE = "surveys.survey_create"
SURVEY_OPEN = "surveys.survey_open"
SURVEY_CLOSE = "surveys.survey_close"
RESPONSE_SUBMIT = "surveys.response_submit"
RESPONSES_IMPORT = "surveys.responses_import"
