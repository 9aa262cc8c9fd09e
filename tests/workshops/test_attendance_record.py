"""attendance_record: staff tick who came to a session."""

from __future__ import annotations

from datetime import datetime

import pytest

from hiroba.core.models import AuditEntry
from hiroba.workshops import services
from hiroba.workshops.models import Attendance
from hiroba.workshops.services import WorkshopError
from tests.workshops.conftest import AFTER_CONSENT, JST, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def session_with_participants(make_programme, submit, make_staff):
    clerk = make_staff().user
    programme = make_programme(selection_method="first_come", capacity=3, waitlist_size=0)
    for i in range(4):
        submit(programme, i)
    with at(AFTER_CONSENT):
        services.selection_first_come(actor=clerk, programme=programme)
    session = services.session_create(actor=clerk, programme=programme, number=1, title="オリエンテーション",
                                      starts_at=datetime(2025, 8, 23, 14, tzinfo=JST),
                                      ends_at=datetime(2025, 8, 23, 16, tzinfo=JST), place="区役所")
    return session, list(programme.applications.filter(status="selected").order_by("pk")), clerk


def test_every_participant_gets_a_row_and_changes_are_audited(session_with_participants):
    session, participants, clerk = session_with_participants
    result = services.attendance_record(actor=clerk, session=session, present_ids=[participants[0].pk])
    assert result == {"present": 1, "absent": 2}
    rows = dict(Attendance.objects.values_list("application_id", "present"))
    assert rows == {participants[0].pk: True, participants[1].pk: False, participants[2].pk: False}
    services.attendance_record(actor=clerk, session=session, present_ids=[p.pk for p in participants[:2]])
    assert Attendance.objects.filter(present=True).count() == 2 and Attendance.objects.count() == 3
    last = AuditEntry.objects.filter(action="workshops.attendance_record").order_by("-seq").first()
    assert last.changes == {participants[1].receipt_number: [False, True]}


def test_someone_who_is_not_a_participant_is_refused(session_with_participants):
    session, participants, clerk = session_with_participants
    outsider = session.programme.applications.exclude(status="selected").first()
    with pytest.raises(WorkshopError):
        services.attendance_record(actor=clerk, session=session, present_ids=[outsider.pk])
    assert not Attendance.objects.exists()
