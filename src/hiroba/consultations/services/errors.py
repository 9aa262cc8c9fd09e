"""The errors of the consultation workflow (every one a ``ServiceError``)."""

from __future__ import annotations

from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.consultations.models import Case
from hiroba.core.errors import ServiceError


class ConsultationError(ServiceError):
    """A business rule of the consultation workflow refused the operation (a ``ServiceError``:
    a translatable message, a ``code`` and, where a form field is at fault, ``field``)."""


class PeriodClosed(ConsultationError):
    """Outside the period. For paper, `field` names the form field at fault (the postmark or the
    received date) and the message states that date and the period."""

    def __init__(self, case: Case, message: Any = "", field: str | None = None) -> None:
        super().__init__(message or _("受付期間外のため、意見を受け付けることができません。"),
                         code="period_closed", field=field)
        self.case = case


class TableLocked(ConsultationError):
    """The published table is frozen: the case is in approval (決裁中) or published (公表済)."""

    def __init__(self, case: Case | None = None, what: Any = None) -> None:
        if case is None:
            state, how = _("決裁中または公表済み"), _("決裁をやり直してください")
        elif case.state == Case.State.APPROVING:
            state, how = _("決裁中"), _("決裁を差し戻すか起案を取り消して、回答作成中に戻してください")
        else:
            state, how = _("公表済み"), _("「訂正」で回答作成中に戻し、改めて決裁を受けてください")
        super().__init__(
            format_lazy(_("{state}のため、{what}は変更できません。公表する内容は決裁で承認されたとおりに固定されています。"
                          "変更するには、{how}。"), state=state, what=what or _("公表する内容"), how=how),
            code="table_locked",
        )
        self.case = case


class AnswersLocked(TableLocked):
    def __init__(self, case: Case | None = None) -> None:
        super().__init__(case, _("回答"))
