"""One way to refuse an operation: `ServiceError(message, code, field=None)`.

Services raise it (or a subclass) when a business rule refuses what was asked; nothing has been
written when it propagates (services are atomic). The message is for the person, in Japanese
with an English translation (mark it with ``gettext_lazy`` / ``format_lazy`` so it renders in the
reader's language); ``code`` is for programs (tests, the API's error body, logs); ``field`` names
the form field the message belongs to, so a view shows it beside that field without ever
parsing the text::

    raise ServiceError(_("募集終了日は開始日以降にしてください。"), code="period_order", field="period_end")

    try:
        services.case_create(...)
    except ServiceError as exc:
        exc.add_to_form(form)      # beside the field, or at the top of the form

A staff button that posts an action and goes back to the page it was on says what happened
with `flashed`: the success message, or the service's refusal, as the next page's message::

    with flashed(request, _("回答の受付を始めました。")):
        services.survey_open(actor=request.user, survey=survey)
    return HttpResponseRedirect(...)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib import messages
from django.http import HttpRequest
from django.utils.encoding import force_str


class ServiceError(Exception):
    """A business rule refused the operation; nothing was changed."""

    #: The default code of a subclass (e.g. ``"period_closed"``); an instance may override it.
    code: str = "invalid"

    def __init__(self, message: Any, code: str | None = None, field: str | None = None, **params: Any) -> None:
        super().__init__(message)
        self._message = message
        if code:
            self.code = code
        self.field = field
        self.params = params

    @property
    def message(self) -> str:
        """The message in the active language (a lazy message is rendered now)."""
        return force_str(self._message)

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, Any]:
        """The API's error body: ``{"code", "message", "field"}`` (field omitted when None)."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return body

    def add_to_form(self, form: Any) -> None:
        """Show the message beside its field, or as a form-wide error when the field is not in
        the form (or no field was named)."""
        field = self.field if self.field and self.field in getattr(form, "fields", {}) else None
        form.add_error(field, self.message)


class NotAllowed(ServiceError):
    """The actor may not do this (role, department, or the object's state decides)."""

    code = "not_allowed"


class InvalidTransition(ServiceError):
    """A state machine refused a transition from the object's current state."""

    code = "invalid_transition"


@contextmanager
def flashed(request: HttpRequest, success: Any) -> Iterator[None]:
    """Run the block; flash ``success`` when it completes, or a `ServiceError`'s message instead
    (the error is not raised further: nothing was written, the page says why)."""
    try:
        yield
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
