"""lottery_publish / lottery_draw: published in advance, drawn once, reproducible, tamper-proof."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from hiroba.core.models import AuditEntry
from hiroba.workshops import services
from hiroba.workshops.models import Application, LotteryDraw
from hiroba.workshops.services import WorkshopError
from tests.workshops.conftest import AFTER_CONSENT, OPEN_DAY, PUBLIC_VALUE, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(make_staff):
    return make_staff().user


@pytest.fixture
def five(make_programme, submit):
    programme = make_programme(capacity=2, waitlist_size=2)
    apps = [submit(programme, i) for i in range(5)]
    submit(programme, 5, consent=False)  # never confirmed by a guardian
    return programme, apps


def _publish(programme, clerk):
    with at(AFTER_CONSENT):
        return services.lottery_publish(actor=clerk, programme=programme, public_value=PUBLIC_VALUE)


def _draw(programme, clerk, lottery, **kwargs):
    with at(AFTER_CONSENT):
        return services.lottery_draw(actor=clerk, programme=programme, seed=kwargs.get("seed", lottery.seed),
                                     entries_digest=kwargs.get("entries_digest", lottery.entries_digest))


def recompute(public_value: str, entries_text: str) -> list[str]:
    """Anyone's recomputation from the published page: SHA-256 seed, HMAC ranks."""
    seed = hashlib.sha256(public_value.encode()).digest()
    numbers = [line.split("\t")[0] for line in entries_text.splitlines()]
    return sorted(numbers, key=lambda n: (hmac.new(seed, n.encode(), hashlib.sha256).hexdigest(), n))


def test_publishing_fixes_the_list_the_seed_and_lapses_the_unconsented(five, clerk):
    programme, apps = five
    lottery = _publish(programme, clerk)
    assert lottery.seed == hashlib.sha256(PUBLIC_VALUE.encode()).hexdigest()
    assert lottery.entries_text == "".join(f"R7-JHS-000{i}\n" for i in range(1, 6))
    assert lottery.entries_digest == hashlib.sha256(lottery.entries_text.encode()).hexdigest()
    assert Application.objects.get(receipt_number="R7-JHS-0006").status == Application.Status.LAPSED
    entry = AuditEntry.objects.get(action="workshops.lottery_publish")
    assert entry.changes["seed"] == lottery.seed and entry.changes["entries"] == 5
    assert AuditEntry.objects.filter(action="workshops.applications_lapse").exists()


def test_publishing_before_the_consent_deadline_is_refused(five, clerk):
    programme, _ = five
    with at(OPEN_DAY), pytest.raises(WorkshopError) as error:
        services.lottery_publish(actor=clerk, programme=programme, public_value=PUBLIC_VALUE)
    assert "同意の期限（令和7年7月22日）が過ぎてから" in error.value.message
    assert not LotteryDraw.objects.exists()


def test_publishing_twice_is_refused(five, clerk):
    programme, _ = five
    _publish(programme, clerk)
    with pytest.raises(WorkshopError) as error:
        _publish(programme, clerk)
    assert "公開した後は変更できません" in error.value.message


def test_the_draw_is_reproducible_from_the_published_values(five, clerk, mailoutbox,
                                                             django_capture_on_commit_callbacks):
    programme, _ = five
    lottery = _publish(programme, clerk)
    with django_capture_on_commit_callbacks(execute=True):
        lottery = _draw(programme, clerk, lottery)
    order = recompute(lottery.public_value, lottery.entries_text)
    assert lottery.result["order"] == order
    statuses = {a.receipt_number: (a.status, a.lottery_rank, a.waitlist_rank)
                for a in programme.applications.filter(in_lottery=True)}
    assert statuses[order[0]] == ("selected", 1, None) and statuses[order[1]] == ("selected", 2, None)
    assert statuses[order[2]] == ("waitlisted", 3, 1) and statuses[order[3]] == ("waitlisted", 4, 2)
    assert statuses[order[4]] == ("not_selected", 5, None)
    # Everyone and every guardian hears the result.
    subjects = {tuple(m.to): m.subject for m in mailoutbox}
    by_number = {a.receipt_number: a for a in programme.applications.all()}
    assert subjects[(by_number[order[0]].guardian_email,)].startswith("【参加決定】")
    assert subjects[(by_number[order[0]].student_email,)].startswith("【参加決定】")
    assert subjects[(by_number[order[2]].guardian_email,)].startswith("【補欠】")
    assert "補欠（1番）" in next(m.body for m in mailoutbox if m.to == [by_number[order[2]].guardian_email])
    assert subjects[(by_number[order[4]].guardian_email,)].startswith("【選考結果】")
    assert AuditEntry.objects.get(action="workshops.lottery_draw").changes["order"] == order


@pytest.mark.parametrize("tamper", [
    {"seed": "0" * 64},
    {"seed": hashlib.sha256(b"another public value").hexdigest()},
    {"entries_digest": hashlib.sha256(b"R7-JHS-0001\n").hexdigest()},
])
def test_a_tampered_request_is_refused_and_nothing_changes(five, clerk, tamper):
    programme, _ = five
    lottery = _publish(programme, clerk)
    with pytest.raises(WorkshopError) as error:
        _draw(programme, clerk, lottery, **tamper)
    assert "一致しません" in error.value.message and "抽選は行っていません" in error.value.message
    lottery.refresh_from_db()
    assert lottery.drawn_at is None and lottery.result == {}
    assert not programme.applications.filter(lottery_rank__isnull=False).exists()


def test_a_list_changed_in_the_database_after_publication_is_refused(five, clerk):
    programme, apps = five
    lottery = _publish(programme, clerk)
    LotteryDraw.objects.filter(pk=lottery.pk).update(entries_text=lottery.entries_text + "R7-JHS-0099\n")
    with pytest.raises(WorkshopError) as error:
        _draw(programme, clerk, lottery)
    assert error.value.code == "list_mismatch"
    Application.objects.filter(receipt_number="R7-JHS-0006").update(in_lottery=True)
    LotteryDraw.objects.filter(pk=lottery.pk).update(entries_text=lottery.entries_text)
    with pytest.raises(WorkshopError) as error:
        _draw(programme, clerk, lottery)
    assert error.value.code == "entries_changed"


def test_drawing_twice_is_refused_and_the_result_stays(five, clerk):
    programme, _ = five
    lottery = _publish(programme, clerk)
    first = _draw(programme, clerk, lottery)
    with pytest.raises(WorkshopError) as error:
        _draw(programme, clerk, lottery)
    assert "抽選はすでに行われています" in error.value.message
    lottery.refresh_from_db()
    assert lottery.result == first.result and lottery.drawn_at == first.drawn_at


def test_quotas_are_applied_and_recorded(make_programme, submit, clerk):
    programme = make_programme(capacity=2, waitlist_size=0, quota_kind="grade")
    services.quota_set(actor=clerk, programme=programme, group="中学1年", seats=1)
    apps = [submit(programme, i) for i in range(5)]
    lottery = _draw(programme, clerk, _publish(programme, clerk))
    grade7 = next(a.receipt_number for a in apps if a.grade == 7)
    assert "\t中学1年\n" in lottery.entries_text and lottery.quotas == {"中学1年": 1}
    assert lottery.result["quota_picks"] == {"中学1年": [grade7]}
    assert grade7 in lottery.result["selected"] and len(lottery.result["selected"]) == 2


def test_quotas_cannot_change_after_publication(make_programme, submit, clerk):
    programme = make_programme(quota_kind="grade")
    submit(programme, 0)
    _publish(programme, clerk)
    with pytest.raises(WorkshopError):
        services.quota_set(actor=clerk, programme=programme, group="中学1年", seats=1)


def test_the_draw_refusal_is_audited(five, clerk):
    programme, _ = five
    lottery = _publish(programme, clerk)
    try:
        _draw(programme, clerk, lottery, seed="f" * 64)
    except WorkshopError as error:
        services.lottery_refusal_record(actor=clerk, programme=programme, error=error, seed="f" * 64,
                                        entries_digest=lottery.entries_digest)
    entry = AuditEntry.objects.get(action="workshops.lottery_refused")
    assert entry.changes["reason"] == "seed_mismatch"
