"""Audit action names of the surveys app."""

SURVEY_CREATE = "surveys.survey_create"
SURVEY_OPEN = "surveys.survey_open"
SURVEY_CLOSE = "surveys.survey_close"
RESPONSE_SUBMIT = "surveys.response_submit"
RESPONSES_IMPORT = "surveys.responses_import"

from django.utils.translation import gettext_lazy as _  # noqa: E402

#: The audit log's labels (core.audit_labels)
LABELS = {
    SURVEY_CREATE: _("アンケート：作成"),
    SURVEY_OPEN: _("アンケート：回答の受付開始"),
    SURVEY_CLOSE: _("アンケート：回答の受付終了"),
    RESPONSE_SUBMIT: _("アンケート：回答"),
    RESPONSES_IMPORT: _("アンケート：回答の取込み"),
}
