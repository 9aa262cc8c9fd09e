"""The calendars app on core's shared mechanisms (issue 14): ServiceError with codes and fields,
the typed Actor, audit action constants with labels, workflows declared as state machines, one
view per import action, paginated staff lists."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from hiroba.accounts.models import Role
from hiroba.calendars import audit_actions, importing, sample, services, staff_views
from hiroba.calendars.forms import EventForm, ImportForm
from hiroba.calendars.models import Event, ImportBatch
from hiroba.calendars.parsing import ParseError, parse_date
from hiroba.core.actors import Actor
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.core.models import AuditEntry
from tests.calendars.conftest import calendar_of

pytestmark = pytest.mark.django_db
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def test_a_value_that_cannot_be_read_is_a_service_error_with_a_code_in_the_readers_language():
    with pytest.raises(ParseError) as refused:
        parse_date("2025年2月30日")
    assert isinstance(refused.value, ServiceError) and isinstance(refused.value, ValueError)
    assert refused.value.code == "date_nonexistent"
    assert refused.value.message == "「2025年2月30日」という日付はありません（2月30日は存在しない日です）"
    with translation.override("en"):
        assert refused.value.message == "There is no such date as “2025年2月30日” (2/30 does not exist)"


def test_a_rejected_file_belongs_to_the_file_field():
    with pytest.raises(importing.FileRejected) as refused:
        importing.read_rows("old.xls", b"\xd0\xcf")
    assert (refused.value.code, refused.value.field) == ("old_excel", "file")
    form = ImportForm(data={}, files={"file": SimpleUploadedFile("old.xls", b"\xd0\xcf")})
    assert form.is_valid()
    refused.value.add_to_form(form)
    assert form.errors["file"] == [refused.value.message]


def test_row_problems_are_stored_with_their_code(school):
    content = "ID,対象,件名,開始日\r\n,全校,始業式,2025年2月30日\r\n,8年,遠足,2025/5/9\r\n".encode()
    batch = services.import_preview(actor="test", school=school, filename="bad.csv", content=content)
    assert [(e["line"], e["column"], e["code"]) for e in batch.errors] == [
        (2, "開始日", "date_nonexistent"), (3, "対象", "target_unknown")]
    with pytest.raises(services.ImportNotApplicable) as refused:
        services.import_apply(actor="test", batch=batch)
    assert refused.value.errors == batch.errors and isinstance(refused.value, ServiceError)


def test_a_refused_calendar_names_its_field(school):
    with pytest.raises(ServiceError) as refused:
        services.calendar_create(actor="test", school=school, audience="grade", grade=9)
    assert (refused.value.code, refused.value.field) == ("grade_out_of_range", "grade")
    with pytest.raises(ServiceError) as refused:
        services.term_save(actor="test", school=school, fiscal_year=2025, name="1学期",
                           start_date=date(2025, 7, 1), end_date=date(2025, 4, 1))
    assert (refused.value.code, refused.value.field) == ("term_end_before_start", "end_date")


def test_every_action_the_services_record_is_a_constant_with_a_label(school, make_event):
    event = make_event("運動会")
    services.event_update(actor="test", event=event, data=services.EventData(
        calendar=event.calendar, title="大運動会", start_date=event.start_date, end_date=event.end_date))
    services.event_cancel(actor="test", event=event, reason="雨天")
    services.event_restore(actor="test", event=event)
    services.term_delete(actor="test", term=services.term_save(
        actor="test", school=school, fiscal_year=2025, name="1学期", start_date=date(2025, 4, 7),
        end_date=date(2025, 7, 18)))
    services.import_discard(actor="test", batch=services.import_preview(
        actor="test", school=school, filename="t.csv", content=sample.as_csv()))
    services.import_apply(actor="test", batch=services.import_preview(
        actor="test", school=school, filename="t.csv", content=sample.as_csv()))
    services.combination_get_or_create(calendars=[calendar_of(school, "全校")])
    constants = {v for k, v in vars(audit_actions).items() if k.isupper() and isinstance(v, str)}
    recorded = set(AuditEntry.objects.filter(action__startswith="calendars.").values_list("action", flat=True))
    assert recorded == constants
    assert set(audit_actions.LABELS) == constants
    with translation.override("en"):
        assert not [label for label in map(str, audit_actions.LABELS.values()) if JAPANESE.search(label)]


def test_actors_have_one_label_each(school, school_clerk, make_event):
    event = make_event()
    services.event_cancel(actor=Actor.staff(school_clerk.user), event=event)
    revision = event.revisions.get(action="cancel")
    assert (revision.actor_id, revision.actor_label) == (school_clerk.user.pk, "kyomu@kojimachi.example.jp")
    services.combination_get_or_create(calendars=[calendar_of(school, "全校")])
    entry = AuditEntry.objects.get(action=audit_actions.COMBINATION_CREATE)
    assert (entry.actor_id, entry.actor_label) == (None, "resident")
    batch = services.import_preview(actor=Actor.system("demo"), school=school, filename="t.csv",
                                    content=sample.as_csv())
    assert (batch.created_by, batch.created_by_label) == (None, "demo")


def test_the_event_workflow_is_declared_once_and_enforced(school, school_clerk, make_staff, make_event):
    event = make_event()
    assert [t.name for t in Event.workflow.available(event, school_clerk.user)] == ["cancel"]
    reader = make_staff(email="reader@example.jp", department="kojimachi-es", role=Role.READ)
    assert Event.workflow.available(event, reader.user) == []
    with pytest.raises(NotAllowed):
        services.event_cancel(actor=Actor.staff(reader.user), event=event)
    event.refresh_from_db()
    assert not event.is_cancelled and event.sequence == 0
    services.event_cancel(actor=Actor.staff(school_clerk.user), event=event)
    event.refresh_from_db()
    assert [t.name for t in Event.workflow.available(event, school_clerk.user)] == ["restore"]


def test_the_event_page_draws_its_buttons_from_the_workflow(clerk_client, make_event):
    event = make_event()
    page = clerk_client.get(f"/staff/calendars/kojimachi/events/{event.pk}/").content.decode()
    assert f"/events/{event.pk}/cancel/" in page and f"/events/{event.pk}/restore/" not in page
    clerk_client.post(f"/staff/calendars/kojimachi/events/{event.pk}/cancel/")
    page = clerk_client.get(f"/staff/calendars/kojimachi/events/{event.pk}/").content.decode()
    assert f"/events/{event.pk}/restore/" in page and f"/events/{event.pk}/cancel/\"" not in page


def test_an_import_is_applied_and_discarded_by_one_view_each(clerk_client, school):
    batch = services.import_preview(actor="test", school=school, filename="t.csv", content=sample.as_csv())
    base = f"/staff/calendars/kojimachi/import/{batch.pk}/"
    page = clerk_client.get(base).content.decode()
    assert f'action="{base}apply/"' in page and f'formaction="{base}discard/"' in page
    assert clerk_client.post(base).status_code == 405
    assert clerk_client.get(base + "apply/").status_code == 405
    assert clerk_client.post(base + "discard/").status_code == 302
    assert ImportBatch.objects.get().state == ImportBatch.State.DISCARDED
    page = clerk_client.get(base).content.decode()
    assert "反映する" not in page and "破棄する" not in page  # nothing left to do with it
    assert clerk_client.post(base + "apply/").status_code == 200  # refused, shown on the page
    assert not Event.objects.exists()


def test_the_events_of_a_school_year_are_paginated(clerk_client, make_event, monkeypatch):
    monkeypatch.setattr(staff_views, "PAGE_SIZE", 2)
    for n in range(3):
        make_event(f"行事{n}", start=date(2025, 5, 1) + timedelta(days=n))
    first = clerk_client.get("/staff/calendars/kojimachi/?year=2025").content.decode()
    assert "行事0" in first and "行事1" in first and "行事2" not in first
    assert "?year=2025&amp;page=2" in first
    second = clerk_client.get("/staff/calendars/kojimachi/?year=2025&page=2").content.decode()
    assert "行事2" in second and "行事0" not in second


def test_an_rrule_left_empty_is_refused_beside_its_field(school):
    form = EventForm(data={"calendar": calendar_of(school, "全校").pk, "title": "委員会", "category": "event",
                           "start_date": "2025-05-01", "repeat": "custom", "rrule": ""}, school=school)
    assert not form.is_valid()
    assert form.errors["rrule"] == ["RRULEを入れてください"]
