"""Guardian consent: the signed link, its check and the confirmation."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.dates import wareki
from hiroba.workshops import audit_actions as actions
from hiroba.workshops import notify
from hiroba.workshops.models import (
    Application,
)
from hiroba.workshops.services.errors import WorkshopError

CONSENT_SALT = "hiroba.workshops.consent"


def consent_token(application: Application) -> str:
    return signing.dumps({"a": application.pk, "n": application.consent_nonce}, salt=CONSENT_SALT)


def consent_max_age_seconds() -> int:
    return int(getattr(settings, "WORKSHOPS_CONSENT_LINK_DAYS", 14)) * 24 * 60 * 60


def application_for_consent(token: str, *, now: datetime | None = None) -> Application:
    """The application a consent link points to, or a WorkshopError saying why the link is no good."""
    try:
        payload = signing.loads(token, salt=CONSENT_SALT, max_age=consent_max_age_seconds())
    except signing.SignatureExpired as exc:
        raise WorkshopError(_("この確認用リンクは有効期限が切れています。お手数ですが担当課にご連絡ください。"),
                            "expired") from exc
    except signing.BadSignature as exc:
        raise WorkshopError(_("この確認用リンクは正しくありません。メールに書かれたリンクをそのまま開いてください。"),
                            "bad_token") from exc
    application = Application.objects.select_related("programme", "programme__department").filter(
        pk=payload.get("a"), anonymised_at__isnull=True).first()
    if application is None or not secrets.compare_digest(application.consent_nonce, str(payload.get("n"))):
        raise WorkshopError(_("この確認用リンクは使えません。"), "bad_token")
    return application


@transaction.atomic
def application_consent(*, token: str, guardian_name: str, now: datetime | None = None,
                        notify_applicants: bool = True) -> Application:
    """The guardian confirms by the e-mailed link: the application now counts."""
    now = now or timezone.now()
    found = application_for_consent(token, now=now)
    application = Application.objects.select_for_update().get(pk=found.pk)
    programme = found.programme
    if application.consented_at is not None:
        return application  # a second click is harmless
    if application.status != Application.Status.AWAITING_CONSENT:
        raise WorkshopError(_("この申込みは、すでに同意を受け付けられない状態です。"), "not_awaiting")
    if programme.consent_period_over(now):
        raise WorkshopError(
            format_lazy(_("保護者の同意の期限（{deadline}）を過ぎたため、この申込みは受け付けられません。"),
                        deadline=wareki(programme.consent_deadline)), "consent_late")
    before = audit.snapshot(application, ["status", "consented_at"])
    application.status = Application.Status.CONFIRMED
    application.consented_at = now
    application.consented_by_name = guardian_name.strip()
    application.save(update_fields=["status", "consented_at", "consented_by_name"])
    audit.record(actor=Actor.guardian().audit_label, action=actions.APPLICATION_CONSENT, obj=application,
                 changes=audit.diff(before, audit.snapshot(application, ["status", "consented_at"])))
    if notify_applicants:
        notify.consent_confirmed(application.pk)
    return application


@transaction.atomic
def consent_request_resend(*, actor: ActorLike, application: Application, site_url: str) -> Application:
    """Send the guardian a fresh consent link (the old one stops working)."""
    if application.status != Application.Status.AWAITING_CONSENT:
        raise WorkshopError(_("保護者の同意待ちの申込みだけ、確認メールを送り直せます。"), "not_awaiting")
    if application.programme.consent_period_over():
        raise WorkshopError(_("保護者の同意の期限を過ぎています。"), "consent_late")
    application.consent_nonce = secrets.token_hex(16)
    application.consent_sent_at = timezone.now()
    application.save(update_fields=["consent_nonce", "consent_sent_at"])
    audit.record(actor=actor, action=actions.CONSENT_RESEND, obj=application, changes={})
    url = site_url.rstrip("/") + reverse("workshops:consent", args=[consent_token(application)])
    notify.consent_request(application.pk, url)
    return application
