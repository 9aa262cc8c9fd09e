"""Selection: the published lottery or first come."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.dates import wareki
from hiroba.workshops import audit_actions as actions
from hiroba.workshops import lottery as draw
from hiroba.workshops import notify
from hiroba.workshops.models import (
    Application,
    LotteryDraw,
    Programme,
)
from hiroba.workshops.services._common import _fill_vacancies, _lapse_unconsented
from hiroba.workshops.services.errors import WorkshopError


def _check_selection_time(programme: Programme, now: datetime) -> None:
    if not programme.consent_period_over(now):
        raise WorkshopError(
            format_lazy(_("保護者の同意の期限（{deadline}）が過ぎてから選考してください。"
                          "それまでは申込みの一覧が確定しません。"),
                        deadline=wareki(programme.consent_deadline)), "too_early")


@transaction.atomic
def lottery_publish(*, actor: ActorLike, programme: Programme, public_value: str,
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
        published_at=now, published_by=Actor.of(actor).account(),
    )
    audit.record(actor=actor, action=actions.LOTTERY_PUBLISH, obj=programme, changes={
        "algorithm": lottery.algorithm, "public_value": public_value, "seed": lottery.seed,
        "entries_digest": lottery.entries_digest, "entries": len(entrants), "capacity": lottery.capacity,
        "waitlist_size": lottery.waitlist_size, "quotas": lottery.quotas,
    })
    return lottery


def _apply_allocation(actor: ActorLike, programme: Programme, allocation: draw.Allocation,
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
def lottery_draw(*, actor: ActorLike, programme: Programme, seed: str, entries_digest: str,
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
    lottery.drawn_by = Actor.of(actor).account()
    lottery.result = {"order": allocation.order, "selected": allocation.selected,
                      "waitlist": allocation.waitlist, "not_selected": allocation.not_selected,
                      "quota_picks": allocation.quota_picks}
    lottery.save(update_fields=["drawn_at", "drawn_by", "result"])
    audit.record(actor=actor, action=actions.LOTTERY_DRAW, obj=programme, changes={
        "seed": lottery.seed, "entries_digest": lottery.entries_digest, **lottery.result})
    _apply_allocation(actor, programme, allocation, notify_applicants=notify_applicants)
    return lottery


def lottery_refusal_record(*, actor: ActorLike, programme: Programme, error: WorkshopError, seed: str,
                           entries_digest: str) -> None:
    """Keep a refused (possibly tampered) lottery request in the audit log."""
    with transaction.atomic():
        audit.record(actor=actor, action=actions.LOTTERY_REFUSED, obj=programme,
                     changes={"reason": error.code, "seed": seed[:80], "entries_digest": entries_digest[:80]})


@transaction.atomic
def selection_first_come(*, actor: ActorLike, programme: Programme, now: datetime | None = None,
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
