"""E-mails to students and guardians. Called after commit with ids (never ORM objects)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from hiroba.workshops.models import Application


def _send(template: str, context: dict[str, object], recipients: list[str]) -> None:
    recipients = [r for r in dict.fromkeys(recipients) if r]
    if not recipients:
        return
    context = {"municipality": settings.HIROBA_MUNICIPALITY, **context}
    subject, _, body = render_to_string(f"workshops/mail/{template}.txt", context).strip().partition("\n")
    for recipient in recipients:  # one message each: no address is shown to another recipient
        send_mail(subject.strip(), body.strip() + "\n", None, [recipient])


def _load(application_id: int) -> Application:
    return Application.objects.select_related("programme", "programme__department").get(pk=application_id)


def consent_request(application_id: int, consent_url: str) -> None:
    """To the guardian: please confirm (the link); to the student: we got it, waiting for consent."""
    app = _load(application_id)
    context = {"app": app, "programme": app.programme, "consent_url": consent_url}
    _send("consent_request", context, [app.guardian_email])
    _send("received", context, [app.student_email])


def duplicate_attempt(application_id: int) -> None:
    """To the guardian on record only: someone applied again for this student; it was not accepted."""
    app = _load(application_id)
    _send("duplicate_attempt", {"app": app, "programme": app.programme}, [app.guardian_email])


def consent_confirmed(application_id: int) -> None:
    app = _load(application_id)
    _send("consent_confirmed", {"app": app, "programme": app.programme}, [app.guardian_email, app.student_email])


def result(application_id: int) -> None:
    """Selected / waiting list / not selected, to the student and the guardian."""
    app = _load(application_id)
    template = {
        Application.Status.SELECTED: "result_selected",
        Application.Status.WAITLISTED: "result_waitlisted",
        Application.Status.NOT_SELECTED: "result_not_selected",
    }[Application.Status(app.status)]
    _send(template, {"app": app, "programme": app.programme}, [app.guardian_email, app.student_email])


def promoted(application_id: int) -> None:
    app = _load(application_id)
    _send("promoted", {"app": app, "programme": app.programme}, [app.guardian_email, app.student_email])


def withdrawn(application_id: int) -> None:
    app = _load(application_id)
    _send("withdrawn", {"app": app, "programme": app.programme}, [app.guardian_email, app.student_email])
