"""E-mails to students and guardians, through `hiroba.core.notify`.

Called inside the service's transaction with ids: each message is rendered now from the
application's current state, stored in the outbox with the write, and delivered by the worker
after the commit (retried when the mail server fails) — a request never waits for SMTP, and a
mail server that is down never turns a committed write into an error page.
"""

from __future__ import annotations

from hiroba.core import notify
from hiroba.workshops.models import Application


def _send(template: str, app: Application, recipients: list[str], **context: object) -> None:
    # one message each (core.notify): no address is shown to another recipient
    notify.send(template=f"workshops/mail/{template}", to=recipients,
                context={"app": app, "programme": app.programme, **context}, about=app)


def _load(application_id: int) -> Application:
    return Application.objects.select_related("programme", "programme__department").get(pk=application_id)


def consent_request(application_id: int, consent_url: str) -> None:
    """To the guardian: please confirm (the link); to the student: we got it, waiting for consent."""
    app = _load(application_id)
    _send("consent_request", app, [app.guardian_email], consent_url=consent_url)
    _send("received", app, [app.student_email], consent_url=consent_url)


def duplicate_attempt(application_id: int) -> None:
    """To the guardian on record only: someone applied again for this student; it was not accepted."""
    app = _load(application_id)
    _send("duplicate_attempt", app, [app.guardian_email])


def consent_confirmed(application_id: int) -> None:
    app = _load(application_id)
    _send("consent_confirmed", app, [app.guardian_email, app.student_email])


def result(application_id: int) -> None:
    """Selected / waiting list / not selected, to the student and the guardian."""
    app = _load(application_id)
    template = {
        Application.Status.SELECTED: "result_selected",
        Application.Status.WAITLISTED: "result_waitlisted",
        Application.Status.NOT_SELECTED: "result_not_selected",
    }[Application.Status(app.status)]
    _send(template, app, [app.guardian_email, app.student_email])


def promoted(application_id: int) -> None:
    app = _load(application_id)
    _send("promoted", app, [app.guardian_email, app.student_email])


def withdrawn(application_id: int) -> None:
    app = _load(application_id)
    _send("withdrawn", app, [app.guardian_email, app.student_email])
