"""Applications: submission, duplicates, eligibility and withdrawal."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.dates import wareki
from hiroba.core.receipts import receipt_number, take_next
from hiroba.workshops import audit_actions as actions
from hiroba.workshops import notify
from hiroba.workshops.models import (
    Application,
    Programme,
    grade_label,
)
from hiroba.workshops.normalize import kana_key, school_key
from hiroba.workshops.services._common import _fill_vacancies, _period
from hiroba.workshops.services.consent import consent_token
from hiroba.workshops.services.errors import DuplicateApplication, WorkshopError


@dataclass(frozen=True)
class ApplicationInput:
    student_name: str
    student_kana: str
    birth_date: date
    school_name: str
    grade: int
    lives_in_ward: bool
    address: str
    guardian_name: str
    guardian_email: str
    student_email: str = ""
    student_phone: str = ""
    guardian_relationship: str = ""
    guardian_phone: str = ""
    interests: str = ""
    accessibility_needs: str = ""


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def eligibility_problems(programme: Programme, *, grade: int, birth_date: date, lives_in_ward: bool) -> list[str]:
    """Why this student may not apply, in words a 13-year-old understands (empty: eligible)."""
    problems = []
    if programme.residency_required and not lives_in_ward:
        problems.append(_("この募集は、%(municipality)sに住んでいる人が対象です。")
                        % {"municipality": settings.HIROBA_MUNICIPALITY})
    if programme.grade_min is not None and programme.grade_max is not None:
        if not programme.grade_min <= grade <= programme.grade_max:
            problems.append(_("この募集の対象は%(range)sです。%(grade)sの人は申し込めません。")
                            % {"range": programme.grade_range_label, "grade": grade_label(grade) or _("えらんだ学年")})
    if programme.age_min is not None and programme.age_max is not None and programme.age_on is not None:
        age = age_on(birth_date, programme.age_on)
        if not programme.age_min <= age <= programme.age_max:
            problems.append(_("この募集の対象は%(min)s〜%(max)s歳（%(day)sの年齢）です。")
                            % {"min": programme.age_min, "max": programme.age_max, "day": wareki(programme.age_on)})
    return problems


def _next_receipt_number(programme: Programme) -> str:
    # core.receipts: one UPDATE … RETURNING claims the next number; two applicants never share one.
    return receipt_number(programme.code.upper(), take_next(Programme, programme.pk, "last_receipt_seq"))


@transaction.atomic
def application_submit(*, programme: Programme, data: ApplicationInput, site_url: str = "",
                       now: datetime | None = None, notify_guardian: bool = True) -> Application:
    """Receive a student's application and e-mail the guardian a consent link.

    It counts only once the guardian confirms (application_consent). Refused outside the
    window, for ineligible students and for a second application by the same student.
    """
    now = now or timezone.now()
    if not programme.is_open(now):
        raise WorkshopError(
            format_lazy(_("今は申込みの期間ではありません。申込みの期間は{period}です。"),
                        period=_period(programme.applications_open_on, programme.applications_close_on)), "closed")
    problems = eligibility_problems(programme, grade=data.grade, birth_date=data.birth_date,
                                    lives_in_ward=data.lives_in_ward)
    if problems:
        raise WorkshopError("".join(str(p) for p in problems), "ineligible")
    kkey, skey = kana_key(data.student_kana), school_key(data.school_name)
    same_student = programme.applications.filter(anonymised_at__isnull=True, kana_key=kkey)
    existing = (same_student.filter(birth_date=data.birth_date).first()
                or same_student.filter(school_key=skey, grade=data.grade).first())
    if existing is not None:
        raise DuplicateApplication(
            format_lazy(_("同じ人の申込みがすでにあります。申込みは1人1回です。"
                          "わからないことがあれば、{department}に連絡してください。"),
                        department=programme.department.name), existing.pk)
    application = Application.objects.create(
        programme=programme, receipt_number=_next_receipt_number(programme), submitted_at=now,
        kana_key=kkey, school_key=skey, consent_nonce=secrets.token_hex(16),
        consent_sent_at=now if notify_guardian else None,
        **{name: getattr(data, name) for name in ApplicationInput.__dataclass_fields__},
    )
    audit.record(actor=Actor.resident().audit_label, action=actions.APPLICATION_SUBMIT, obj=application,
                 changes={"programme": programme.code, "grade": data.grade})
    if notify_guardian:
        url = site_url.rstrip("/") + reverse("workshops:consent", args=[consent_token(application)])
        notify.consent_request(application.pk, url)
    return application


@transaction.atomic
def duplicate_attempt_record(*, application_id: int, notify_guardian: bool = True) -> None:
    """Someone applied again for a student who has an application: audited, and the guardian on
    record (never the address in the new form) is told by mail, so nothing is revealed to a
    stranger who types in a child's name and birth date."""
    application = Application.objects.select_related("programme").get(pk=application_id)
    audit.record(actor=Actor.resident().audit_label, action=actions.APPLICATION_DUPLICATE, obj=application,
                 changes={"programme": application.programme.code, "guardian_told": notify_guardian})
    if notify_guardian:
        notify.duplicate_attempt(application.pk)


@transaction.atomic
def application_withdraw(*, actor: ActorLike, application: Application, reason: str,
                         now: datetime | None = None) -> list[Application]:
    """Record a withdrawal (辞退); the next on the waiting list takes a freed seat. Returns those promoted."""
    application = Application.objects.select_for_update().select_related("programme").get(pk=application.pk)
    if application.status in (Application.Status.WITHDRAWN, Application.Status.LAPSED):
        raise WorkshopError(_("この申込みは、すでに辞退または無効になっています。"), "not_active")
    if application.anonymised_at:
        raise WorkshopError(_("この申込みの個人情報は消去済みです。"), "purged")
    before = audit.snapshot(application, ["status", "waitlist_rank", "withdrawn_at"])
    was_selected = application.status == Application.Status.SELECTED
    application.status = Application.Status.WITHDRAWN
    application.waitlist_rank = None
    application.withdrawn_at = now or timezone.now()
    application.withdrawal_reason = reason.strip()[:200]
    application.save(update_fields=["status", "waitlist_rank", "withdrawn_at", "withdrawal_reason"])
    changes: dict[str, Any] = dict(audit.diff(before, audit.snapshot(application, ["status", "waitlist_rank",
                                                                                    "withdrawn_at"])))
    changes["reason"] = application.withdrawal_reason
    audit.record(actor=actor, action=actions.APPLICATION_WITHDRAW, obj=application, changes=changes)
    notify.withdrawn(application.pk)
    return _fill_vacancies(actor, application.programme) if was_selected else []
