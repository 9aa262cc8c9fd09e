"""Every write about workshops: one function per use case, atomic, audited.

Business-rule refusals raise WorkshopError with a Japanese message meant for the person in front
of the screen (a student, a guardian or staff); nothing is changed when one is raised.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.core import audit
from hiroba.core.actors import Actor
from hiroba.core.dates import wareki
from hiroba.core.errors import ServiceError
from hiroba.core.models import Department, Notification
from hiroba.core.receipts import receipt_number, take_next
from hiroba.workshops import audit_actions as actions
from hiroba.workshops import lottery as draw
from hiroba.workshops import notify
from hiroba.workshops.models import (
    Application,
    Attendance,
    LotteryDraw,
    Output,
    Programme,
    Quota,
    Session,
    grade_label,
)
from hiroba.workshops.normalize import kana_key, school_key

CONSENT_SALT = "hiroba.workshops.consent"
PROGRAMME_FIELDS = [
    "title", "purpose", "audience", "residency_required", "grade_min", "grade_max", "age_min", "age_max",
    "age_on", "capacity", "waitlist_size", "applications_open_on", "applications_close_on",
    "consent_deadline", "selection_method", "lottery_seed_rule", "quota_kind", "privacy_notice",
    "starts_on", "ends_on", "purge_on", "is_published",
]
# Fields fixed once applications exist: changing them would change who may apply or how
# applicants are chosen after the fact.
RULE_FIELDS = {"residency_required", "grade_min", "grade_max", "age_min", "age_max", "age_on", "capacity",
               "waitlist_size", "selection_method", "lottery_seed_rule", "quota_kind",
               "applications_open_on", "consent_deadline"}
SESSION_FIELDS = ["number", "title", "starts_at", "ends_at", "place", "online_url", "agenda", "materials", "notes"]
PERSONAL_FIELDS = [
    "student_name", "student_kana", "kana_key", "birth_date", "school_name", "school_key", "address",
    "student_email", "student_phone", "guardian_name", "guardian_relationship", "guardian_email",
    "guardian_phone", "interests", "accessibility_needs", "consented_by_name", "consent_nonce",
    "withdrawal_reason",
]


class WorkshopError(ServiceError):
    """A refusal with a translatable message (Japanese first); nothing was changed."""


class DuplicateApplication(WorkshopError):
    """The student has applied already. Public pages must not say so (13.13): the guardian on record
    is told by mail (`duplicate_attempt_record`), whoever sent the form sees the usual answer."""

    def __init__(self, message: Any, existing_id: int) -> None:
        super().__init__(message, "duplicate")
        self.existing_id = existing_id




def _period(start: date, end: date) -> str:
    return f"{wareki(start)}〜{wareki(end)}"


# --- Programmes and sessions ------------------------------------------------------------------

@transaction.atomic
def programme_create(*, actor: Any, department: Department, code: str, **fields: Any) -> Programme:
    """Create a programme (企画) organised by `department`."""
    unknown = set(fields) - set(PROGRAMME_FIELDS)
    if unknown:
        raise TypeError(f"unknown programme fields: {sorted(unknown)}")
    if Programme.objects.filter(code=code).exists():
        raise WorkshopError(_("この企画コードはすでに使われています。"), "duplicate_code", field="code")
    programme = Programme(department=department, code=code, **fields)
    programme.full_clean()
    programme.save()
    audit.record(actor=actor, action=actions.PROGRAMME_CREATE, obj=programme,
                 changes=audit.diff({}, audit.snapshot(programme, ["code", "department_id", *PROGRAMME_FIELDS])))
    return programme


@transaction.atomic
def programme_update(*, actor: Any, programme: Programme, **fields: Any) -> Programme:
    """Change a programme. The audience, capacity and selection rules are fixed once anyone applied."""
    unknown = set(fields) - set(PROGRAMME_FIELDS)
    if unknown:
        raise TypeError(f"unknown programme fields: {sorted(unknown)}")
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    before = audit.snapshot(programme, PROGRAMME_FIELDS)
    changed_rules = {name for name in RULE_FIELDS & set(fields) if before[name] != audit._plain(fields[name])}
    if changed_rules and programme.applications.exists():
        raise WorkshopError(_("申込みがあるため、対象・定員・選考方法・受付開始日は変更できません。"), "rules_fixed")
    for name, value in fields.items():
        setattr(programme, name, value)
    programme.full_clean()
    programme.save()
    audit.record(actor=actor, action=actions.PROGRAMME_UPDATE, obj=programme,
                 changes=audit.diff(before, audit.snapshot(programme, PROGRAMME_FIELDS)))
    return programme


@transaction.atomic
def quota_set(*, actor: Any, programme: Programme, group: str, seats: int) -> Quota | None:
    """Reserve `seats` for a group (0 removes the quota). Only before the lottery is published."""
    if hasattr(programme, "lottery"):
        raise WorkshopError(_("抽選の条件を公開した後は、優先枠を変更できません。"), "lottery_published")
    if not programme.quota_kind:
        raise WorkshopError(_("優先枠の区分（学年または学校）を先に設定してください。"), "no_quota_kind")
    others = sum(q.seats for q in programme.quotas.exclude(group=group))
    if others + seats > programme.capacity:
        raise WorkshopError(_("優先枠の合計が定員を超えます。"), "quota_exceeds_capacity", field="seats")
    before = {"seats": programme.quotas.filter(group=group).values_list("seats", flat=True).first()}
    quota = None
    if seats <= 0:
        programme.quotas.filter(group=group).delete()
    else:
        quota, _created = Quota.objects.update_or_create(programme=programme, group=group, defaults={"seats": seats})
    audit.record(actor=actor, action=actions.QUOTA_SET, obj=programme,
                 changes={"group": group, **audit.diff(before, {"seats": seats or None})})
    return quota


@transaction.atomic
def session_create(*, actor: Any, programme: Programme, **fields: Any) -> Session:
    """Add a session (開催回)."""
    session = Session(programme=programme, **fields)
    session.full_clean()
    session.save()
    audit.record(actor=actor, action=actions.SESSION_CREATE, obj=session,
                 changes=audit.diff({}, audit.snapshot(session, SESSION_FIELDS)))
    return session


@transaction.atomic
def session_update(*, actor: Any, session: Session, **fields: Any) -> Session:
    """Change a session's date, place, agenda, materials or notes."""
    before = audit.snapshot(session, SESSION_FIELDS)
    for name, value in fields.items():
        if name not in SESSION_FIELDS:
            raise TypeError(f"unknown session field {name}")
        setattr(session, name, value)
    session.full_clean()
    session.save()
    audit.record(actor=actor, action=actions.SESSION_UPDATE, obj=session,
                 changes=audit.diff(before, audit.snapshot(session, SESSION_FIELDS)))
    return session


# --- Applications and guardian consent --------------------------------------------------------

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


def consent_token(application: Application) -> str:
    return signing.dumps({"a": application.pk, "n": application.consent_nonce}, salt=CONSENT_SALT)


def consent_max_age_seconds() -> int:
    return int(getattr(settings, "WORKSHOPS_CONSENT_LINK_DAYS", 14)) * 24 * 60 * 60


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
def consent_request_resend(*, actor: Any, application: Application, site_url: str) -> Application:
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


def _lapse_unconsented(actor: Any, programme: Programme) -> int:
    lapsed = programme.applications.filter(status=Application.Status.AWAITING_CONSENT)
    numbers = list(lapsed.values_list("receipt_number", flat=True))
    lapsed.update(status=Application.Status.LAPSED)
    if numbers:
        audit.record(actor=actor, action=actions.APPLICATIONS_LAPSE, obj=programme,
                     changes={"count": len(numbers), "receipt_numbers": numbers})
    return len(numbers)


# --- Selection: lottery or first come --------------------------------------------------------

def _check_selection_time(programme: Programme, now: datetime) -> None:
    if not programme.consent_period_over(now):
        raise WorkshopError(
            format_lazy(_("保護者の同意の期限（{deadline}）が過ぎてから選考してください。"
                          "それまでは申込みの一覧が確定しません。"),
                        deadline=wareki(programme.consent_deadline)), "too_early")


@transaction.atomic
def lottery_publish(*, actor: Any, programme: Programme, public_value: str,
                    now: datetime | None = None) -> LotteryDraw:
    """Fix and publish the lottery's inputs: the entry list, its digest and the seed.

    The seed is SHA-256 of `public_value`, a value announced in advance and not under the ward's
    control (programme.lottery_seed_rule). Publishing happens once; the draw later must match it.
    """
    now = now or timezone.now()
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    if programme.selection_method != Programme.Selection.LOTTERY:
        raise WorkshopError(_("この企画の選考方法は抽選ではありません。"), "not_lottery")
    if LotteryDraw.objects.filter(programme=programme).exists():
        raise WorkshopError(_("抽選の条件はすでに公開されています。公開した後は変更できません。"), "already_published")
    _check_selection_time(programme, now)
    public_value = public_value.strip()
    if not public_value:
        raise WorkshopError(_("公開値を入力してください。"), "no_public_value", field="public_value")
    _lapse_unconsented(actor, programme)
    entrants = list(programme.applications.filter(status=Application.Status.CONFIRMED))
    if not entrants:
        raise WorkshopError(_("抽選の対象になる申込み（保護者の同意済み）がありません。"), "no_entries")
    text = draw.entries_text({a.receipt_number: a.quota_group() for a in entrants})
    programme.applications.filter(pk__in=[a.pk for a in entrants]).update(in_lottery=True)
    lottery = LotteryDraw.objects.create(
        programme=programme, algorithm=draw.ALGORITHM, public_value=public_value,
        seed=draw.seed_from_public_value(public_value), entries_text=text, entries_digest=draw.digest(text),
        capacity=programme.capacity, waitlist_size=programme.waitlist_size,
        quotas={q.group: q.seats for q in programme.quotas.all()},
        published_at=now, published_by=actor if getattr(actor, "pk", None) else None,
    )
    audit.record(actor=actor, action=actions.LOTTERY_PUBLISH, obj=programme, changes={
        "algorithm": lottery.algorithm, "public_value": public_value, "seed": lottery.seed,
        "entries_digest": lottery.entries_digest, "entries": len(entrants), "capacity": lottery.capacity,
        "waitlist_size": lottery.waitlist_size, "quotas": lottery.quotas,
    })
    return lottery


def _apply_allocation(actor: Any, programme: Programme, allocation: draw.Allocation,
                      *, notify_applicants: bool) -> None:
    by_number = {a.receipt_number: a for a in programme.applications.filter(
        receipt_number__in=allocation.order).select_for_update()}
    waitlist_rank = {n: i for i, n in enumerate(allocation.waitlist, 1)}
    selected = set(allocation.selected)
    told: list[int] = []
    for rank, number in enumerate(allocation.order, 1):
        app = by_number[number]
        app.lottery_rank = rank
        if app.status == Application.Status.WITHDRAWN:
            app.save(update_fields=["lottery_rank"])
            continue
        if number in selected:
            app.status = Application.Status.SELECTED
        elif number in waitlist_rank:
            app.status, app.waitlist_rank = Application.Status.WAITLISTED, waitlist_rank[number]
        else:
            app.status = Application.Status.NOT_SELECTED
        app.save(update_fields=["lottery_rank", "status", "waitlist_rank"])
        told.append(app.pk)
    promoted = _fill_vacancies(actor, programme, notify_applicants=False)
    if notify_applicants:  # each result as it stands once the freed seats are filled, then the promotions
        for pk in told:
            notify.result(pk)
        for app in promoted:
            notify.promoted(app.pk)


@transaction.atomic
def lottery_draw(*, actor: Any, programme: Programme, seed: str, entries_digest: str,
                 now: datetime | None = None, notify_applicants: bool = True) -> LotteryDraw:
    """Draw once, with exactly the published seed and entry list; notify everyone.

    The request carries the seed and digest the staff member saw on the published page; any
    difference from what was published (or from the entries in the database), or a second
    draw, is refused and nothing changes.
    """
    now = now or timezone.now()
    lottery = LotteryDraw.objects.select_for_update().filter(programme=programme).first()
    if lottery is None:
        raise WorkshopError(_("抽選の条件（シードと抽選対象の一覧）がまだ公開されていません。"), "not_published")
    if lottery.is_drawn:
        raise WorkshopError(_("この企画の抽選はすでに行われています。抽選は1回だけです。"), "already_drawn")
    if seed.strip().lower() != lottery.seed or draw.seed_from_public_value(lottery.public_value) != lottery.seed:
        raise WorkshopError(_("送信されたシードが、公開したシードと一致しません。抽選は行っていません。"), "seed_mismatch", field="seed")
    if entries_digest.strip().lower() != lottery.entries_digest or draw.digest(lottery.entries_text) != lottery.entries_digest:
        raise WorkshopError(_("抽選対象の一覧が、公開したものと一致しません。抽選は行っていません。"), "list_mismatch", field="entries_digest")
    entries = draw.parse_entries(lottery.entries_text)
    in_db = set(programme.applications.filter(in_lottery=True).values_list("receipt_number", flat=True))
    if in_db != set(entries):
        raise WorkshopError(_("公開した後に抽選対象の申込みが変わっています。抽選は行っていません。"), "entries_changed")
    # Claim the draw with a conditional UPDATE: a concurrent second request finds nothing to claim.
    if not LotteryDraw.objects.filter(pk=lottery.pk, drawn_at__isnull=True).update(drawn_at=now):
        raise WorkshopError(_("この企画の抽選はすでに行われています。抽選は1回だけです。"), "already_drawn")
    order = draw.draw_order(lottery.seed, entries)
    allocation = draw.allocate(order, entries, capacity=lottery.capacity, waitlist_size=lottery.waitlist_size,
                               quotas=lottery.quotas)
    lottery.drawn_at = now
    lottery.drawn_by = actor if getattr(actor, "pk", None) else None
    lottery.result = {"order": allocation.order, "selected": allocation.selected,
                      "waitlist": allocation.waitlist, "not_selected": allocation.not_selected,
                      "quota_picks": allocation.quota_picks}
    lottery.save(update_fields=["drawn_at", "drawn_by", "result"])
    audit.record(actor=actor, action=actions.LOTTERY_DRAW, obj=programme, changes={
        "seed": lottery.seed, "entries_digest": lottery.entries_digest, **lottery.result})
    _apply_allocation(actor, programme, allocation, notify_applicants=notify_applicants)
    return lottery


def lottery_refusal_record(*, actor: Any, programme: Programme, error: WorkshopError, seed: str,
                           entries_digest: str) -> None:
    """Keep a refused (possibly tampered) lottery request in the audit log."""
    with transaction.atomic():
        audit.record(actor=actor, action=actions.LOTTERY_REFUSED, obj=programme,
                     changes={"reason": error.code, "seed": seed[:80], "entries_digest": entries_digest[:80]})


@transaction.atomic
def selection_first_come(*, actor: Any, programme: Programme, now: datetime | None = None,
                         notify_applicants: bool = True) -> draw.Allocation:
    """First come, first served: consented applications in the order they were received."""
    now = now or timezone.now()
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    if programme.selection_method != Programme.Selection.FIRST_COME:
        raise WorkshopError(_("この企画の選考方法は先着順ではありません。"), "not_first_come")
    _check_selection_time(programme, now)
    if programme.applications.filter(lottery_rank__isnull=False).exists():
        raise WorkshopError(_("選考はすでに行われています。"), "already_selected")
    _lapse_unconsented(actor, programme)
    entrants = {a.receipt_number: a.quota_group() for a in programme.applications.filter(
        status=Application.Status.CONFIRMED)}
    if not entrants:
        raise WorkshopError(_("選考の対象になる申込み（保護者の同意済み）がありません。"), "no_entries")
    order = sorted(entrants)
    allocation = draw.allocate(order, entrants, capacity=programme.capacity,
                               waitlist_size=programme.waitlist_size,
                               quotas={q.group: q.seats for q in programme.quotas.all()})
    audit.record(actor=actor, action=actions.SELECTION_FIRST_COME, obj=programme, changes={
        "order": allocation.order, "selected": allocation.selected, "waitlist": allocation.waitlist})
    _apply_allocation(actor, programme, allocation, notify_applicants=notify_applicants)
    return allocation


def _fill_vacancies(actor: Any, programme: Programme, *, notify_applicants: bool = True) -> list[Application]:
    """Promote the head of the waiting list while seats are free."""
    promoted = []
    selected = programme.applications.filter(status=Application.Status.SELECTED).count()
    waiting = list(programme.applications.filter(status=Application.Status.WAITLISTED)
                   .select_for_update().order_by("waitlist_rank"))
    while selected < programme.capacity and waiting:
        app = waiting.pop(0)
        before = audit.snapshot(app, ["status", "waitlist_rank"])
        app.status, app.waitlist_rank = Application.Status.SELECTED, None
        app.save(update_fields=["status", "waitlist_rank"])
        audit.record(actor=actor, action=actions.APPLICATION_PROMOTE, obj=app,
                     changes=audit.diff(before, audit.snapshot(app, ["status", "waitlist_rank"])))
        if notify_applicants:
            notify.promoted(app.pk)
        promoted.append(app)
        selected += 1
    return promoted


@transaction.atomic
def application_withdraw(*, actor: Any, application: Application, reason: str,
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


# --- Sessions: attendance and outputs ---------------------------------------------------------

@transaction.atomic
def attendance_record(*, actor: Any, session: Session, present_ids: Iterable[int]) -> dict[str, int]:
    """Tick who attended a session: every participant gets a present/absent row."""
    programme = session.programme
    if programme.is_purged:
        raise WorkshopError(_("この企画の個人情報は消去済みのため、出欠は記録できません。"), "purged")
    participants = {a.pk: a for a in programme.applications.filter(status=Application.Status.SELECTED)}
    present = set(present_ids)
    if present - set(participants):
        raise WorkshopError(_("参加者ではない人が含まれています。画面を読み込み直してください。"), "not_participant", field="present")
    existing = {a.application_id: a for a in session.attendances.all()}
    now = timezone.now()
    before = {participants[i].receipt_number: existing[i].present for i in existing if i in participants}
    for pk in participants:
        row = existing.get(pk)
        if row is None:
            Attendance.objects.create(session=session, application_id=pk, present=pk in present,
                                      recorded_by=actor if getattr(actor, "pk", None) else None, recorded_at=now)
        elif row.present != (pk in present):
            row.present, row.recorded_at = pk in present, now
            row.recorded_by = actor if getattr(actor, "pk", None) else None
            row.save(update_fields=["present", "recorded_at", "recorded_by"])
    after = {participants[pk].receipt_number: pk in present for pk in participants}
    audit.record(actor=actor, action=actions.ATTENDANCE_RECORD, obj=session,
                 changes=audit.diff(before, after))
    return {"present": len(present), "absent": len(participants) - len(present)}


@transaction.atomic
def output_create(*, actor: Any, programme: Programme, title: str, team_label: str, problem: str,
                  idea: str, beneficiaries: str, slides: UploadedFile | None = None) -> Output:
    """Collect one of the participants' outputs (an idea, with slides)."""
    if programme.is_purged:
        raise WorkshopError(_("この企画は終了し、記録が整理済みです。"), "purged")
    output = Output(programme=programme, title=title, team_label=team_label, problem=problem, idea=idea,
                    beneficiaries=beneficiaries, created_by=actor if getattr(actor, "pk", None) else None)
    if slides is not None:
        output.slides = slides
    output.full_clean()
    output.save()
    # The slides by name: core.audit.snapshot cannot read an empty FileField.
    audit.record(actor=actor, action=actions.OUTPUT_CREATE, obj=output, changes=audit.diff(
        {}, {**audit.snapshot(output, ["title", "team_label"]), "slides": output.slides.name or ""}))
    return output


class _Proposals:
    """The one place workshops meet the proposals module: its public services (and one read).

    Its refusals come back as WorkshopError with the proposals module's own message.
    """

    @staticmethod
    def _services() -> Any:
        from hiroba.proposals import services as proposal_services

        return proposal_services

    @classmethod
    def call_create(cls, *, actor: Any, programme: Programme) -> Any:
        proposals = cls._services()
        try:
            return proposals.call_create(
                actor=actor, department=programme.department, title=f"{programme.title}からの提案",
                theme=programme.purpose, slug=f"workshop-{programme.code}")
        except proposals.ProposalsError as error:
            raise WorkshopError(error.message, "proposals") from error

    @staticmethod
    def call_get(call_id: int) -> Any:
        from django.apps import apps

        return apps.get_model("proposals", "Call").objects.get(pk=call_id)

    @classmethod
    def submit(cls, *, actor: Any, call: Any, programme: Programme, output: Output) -> Any:
        proposals = cls._services()
        label = f"{programme.title} {output.team_label}"
        try:
            return proposals.proposal_submit_on_behalf(
                actor=actor, call=call, title=output.title, problem=output.problem, idea=output.idea,
                beneficiaries=output.beneficiaries, proposer_label=label if len(label) <= 100 else output.team_label,
                source=f"workshop:{programme.code}")
        except proposals.ProposalsError as error:
            raise WorkshopError(format_lazy(_("「{title}」: {message}"), title=output.title, message=error.message),
                                "proposals") from error


@transaction.atomic
def outputs_submit_as_proposals(*, actor: Any, programme: Programme) -> list[Output]:
    """Submit the outputs not yet submitted as proposals, into the programme's own call (提案募集)."""
    programme = Programme.objects.select_for_update().select_related("department").get(pk=programme.pk)
    outputs = list(programme.outputs.filter(proposal_id__isnull=True).order_by("created_at", "pk"))
    if not outputs:
        raise WorkshopError(_("提出していない成果物がありません。"), "nothing_to_submit")
    if programme.proposal_call_id is None:
        call = _Proposals.call_create(actor=actor, programme=programme)
        programme.proposal_call_id = call.pk
    else:
        call = _Proposals.call_get(programme.proposal_call_id)
    now = timezone.now()
    for output in outputs:
        proposal = _Proposals.submit(actor=actor, call=call, programme=programme, output=output)
        output.proposal_id, output.submitted_at = proposal.pk, now
        output.save(update_fields=["proposal_id", "submitted_at"])
    programme.outputs_submitted_at = now
    programme.save(update_fields=["proposal_call_id", "outputs_submitted_at"])
    audit.record(actor=actor, action=actions.OUTPUTS_SUBMIT, obj=programme, changes={
        "call_id": programme.proposal_call_id, "proposal_ids": [o.proposal_id for o in outputs]})
    return outputs


# --- Data protection: deletion after the programme -------------------------------------------

@transaction.atomic
def programme_purge(*, actor: Any, programme: Programme, now: datetime | None = None) -> int:
    """Anonymise every application of the programme (names, contacts, birth dates, free text).

    Receipt numbers, grades, statuses and lottery ranks stay, so the published lottery can still
    be verified and attendance counted; nothing left identifies a child.
    """
    now = now or timezone.now()
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    if programme.is_purged:
        return 0
    blank = {name: "" for name in PERSONAL_FIELDS if name != "birth_date"}
    ids = [str(pk) for pk in programme.applications.values_list("pk", flat=True)]
    count = programme.applications.filter(anonymised_at__isnull=True).update(
        birth_date=None, anonymised_at=now, **blank)
    # the mails kept in the outbox carry the same names and addresses: they go too
    mails, _ = Notification.objects.filter(object_type=Application._meta.label_lower, object_id__in=ids).delete()
    programme.purged_at = now
    programme.save(update_fields=["purged_at"])
    audit.record(actor=actor, action=actions.PURGE, obj=programme, changes={
        "applications_anonymised": count, "mails_deleted": mails, "purge_on": programme.purge_on,
        "fields": PERSONAL_FIELDS})
    return count


def programmes_purge_due(*, actor: Any, today: date | None = None, dry_run: bool = False) -> list[tuple[str, int]]:
    """Purge every programme whose deletion date has come. [(code, applications anonymised)]."""
    today = today or timezone.localdate()
    due = Programme.objects.filter(purge_on__lte=today, purged_at__isnull=True).order_by("purge_on", "code")
    if dry_run:
        return [(p.code, p.applications.filter(anonymised_at__isnull=True).count()) for p in due]
    return [(p.code, programme_purge(actor=actor, programme=p)) for p in due]
