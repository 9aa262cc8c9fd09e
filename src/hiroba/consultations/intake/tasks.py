"""Background work of the intake: one pass over every configured mailbox.

`read_mailboxes` is queued on a schedule (a systemd timer or cron running
``hiroba consultation mailbox SLUG``, or anything that enqueues this task every few minutes);
the last pass of each case — its counts, or why the mailbox could not be read — is kept for the
staff queue page.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.utils import timezone
from django_tasks import task

from hiroba.consultations.intake import conf, mailbox
from hiroba.consultations.models import Case

log = logging.getLogger(__name__)
STATUS_KEY = "hiroba:intake:mailbox:{slug}"


def cases_with_mailbox() -> list[Case]:
    configured = set(conf.get("CONSULTATIONS_INTAKE_MAILBOXES"))
    cases = Case.objects.filter(state__in=[Case.State.OPEN, Case.State.TALLYING]).order_by("slug")
    if conf.get("CONSULTATIONS_INTAKE_MAILBOX"):
        return [c for c in cases if c.slug in configured or c.email_address]
    return [c for c in cases if c.slug in configured]


def read_one(case: Case, maildir: str | None = None) -> mailbox.Pass:
    """One pass, its result (or its failure) kept for the staff queue page."""
    try:
        result = mailbox.read_case(case, maildir)
    except mailbox.MailboxDown as exc:
        cache.set(STATUS_KEY.format(slug=case.slug), {"at": timezone.now(), "error": str(exc)}, timeout=7 * 86400)
        raise
    cache.set(STATUS_KEY.format(slug=case.slug), {
        "at": timezone.now(), "error": "", "new": result.new, "duplicate": result.duplicate, "held": len(result.held),
    }, timeout=7 * 86400)
    return result


def last_pass(case: Case) -> dict[str, Any] | None:
    return cache.get(STATUS_KEY.format(slug=case.slug))


@task()
def read_mailboxes() -> dict[str, str]:
    """Every case's mailbox in turn; one that is down is reported and the others go on."""
    report: dict[str, str] = {}
    for case in cases_with_mailbox():
        try:
            result = read_one(case)
        except mailbox.MailboxDown as exc:
            log.warning("intake mailbox of %s: %s", case.slug, exc)
            report[case.slug] = f"error: {exc}"
        else:
            report[case.slug] = f"new {result.new}, duplicate {result.duplicate}, held {len(result.held)}"
    return report
