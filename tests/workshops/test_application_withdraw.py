"""application_withdraw: a freed seat goes to the head of the waiting list (audited, notified)."""

from __future__ import annotations

import pytest

from hiroba.core.models import AuditEntry
from hiroba.workshops import services
from hiroba.workshops.models import Application
from hiroba.workshops.services import WorkshopError
from tests.workshops.conftest import AFTER_CONSENT, PUBLIC_VALUE, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def drawn(make_programme, submit, make_staff):
    clerk = make_staff().user
    programme = make_programme(capacity=2, waitlist_size=2)
    for i in range(5):
        submit(programme, i)
    with at(AFTER_CONSENT):
        lottery = services.lottery_publish(actor=clerk, programme=programme, public_value=PUBLIC_VALUE)
        services.lottery_draw(actor=clerk, programme=programme, seed=lottery.seed,
                              entries_digest=lottery.entries_digest)
    return programme, clerk


def _by_rank(programme, rank):
    return programme.applications.get(lottery_rank=rank)


def test_a_withdrawal_promotes_the_first_on_the_waiting_list(drawn, mailoutbox, django_capture_on_commit_callbacks):
    programme, clerk = drawn
    leaving, next_up, second = _by_rank(programme, 1), _by_rank(programme, 3), _by_rank(programme, 4)
    with django_capture_on_commit_callbacks(execute=True):
        promoted = services.application_withdraw(actor=clerk, application=leaving, reason="部活の大会と重なるため")
    assert [a.pk for a in promoted] == [next_up.pk]
    for app in (next_up, second, leaving):
        app.refresh_from_db()
    assert next_up.status == Application.Status.SELECTED and next_up.waitlist_rank is None
    assert second.status == Application.Status.WAITLISTED and second.waitlist_rank == 2
    assert leaving.status == Application.Status.WITHDRAWN and leaving.withdrawal_reason == "部活の大会と重なるため"
    assert programme.applications.filter(status="selected").count() == 2
    assert AuditEntry.objects.get(action="workshops.application_withdraw").changes["reason"] == "部活の大会と重なるため"
    assert AuditEntry.objects.get(action="workshops.application_promote").object_id == str(next_up.pk)
    subjects = {m.to[0]: m.subject for m in mailoutbox}
    assert subjects[next_up.guardian_email].startswith("【繰り上げで参加決定】")
    assert subjects[leaving.guardian_email].startswith("辞退を受け付けました")


def test_a_waiting_list_withdrawal_promotes_nobody(drawn):
    programme, clerk = drawn
    assert services.application_withdraw(actor=clerk, application=_by_rank(programme, 3), reason="都合") == []
    assert programme.applications.filter(status="selected").count() == 2


def test_withdrawing_twice_is_refused(drawn):
    programme, clerk = drawn
    app = _by_rank(programme, 1)
    services.application_withdraw(actor=clerk, application=app, reason="都合")
    with pytest.raises(WorkshopError) as error:
        services.application_withdraw(actor=clerk, application=app, reason="都合")
    assert "すでに辞退" in error.value.message
    assert AuditEntry.objects.filter(action="workshops.application_withdraw").count() == 1


def test_when_the_waiting_list_runs_out_the_seat_stays_free(drawn):
    programme, clerk = drawn
    for rank in (1, 2, 3, 4):
        app = _by_rank(programme, rank)
        app.refresh_from_db()
        if app.status != Application.Status.WITHDRAWN:
            services.application_withdraw(actor=clerk, application=app, reason="都合")
    assert programme.applications.filter(status="selected").count() == 0
    assert _by_rank(programme, 5).status == Application.Status.NOT_SELECTED
