"""Event, calendar, term and combination services: SEQUENCE, revisions, audit, invariants."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from hiroba.calendars import services
from hiroba.calendars.models import Calendar, Event, EventRevision, School, Term
from hiroba.core.errors import ServiceError
from hiroba.core.models import AuditEntry
from tests.calendars.conftest import calendar_of


def test_a_school_gets_a_school_wide_calendar_and_one_per_grade_and_class(school):
    labels = [c.label for c in school.calendars.order_by("sort_order")]
    assert labels[:4] == ["全校", "1年", "1年1組", "1年2組"]
    assert len(labels) == 1 + 6 + 12
    assert calendar_of(school, "1年2組").key == "g1-c2"
    assert AuditEntry.objects.filter(action="calendars.school_create", object_id=str(school.pk)).exists()


def test_kindergarten_grades_are_named_by_age(school_departments):
    kinder = services.school_create(actor="test", department=school_departments["kyoiku"], slug="sakura",
                                    name="千代田区立さくら幼稚園", short_name="さくら幼", kind=School.Kind.KINDERGARTEN)
    assert [c.label for c in kinder.calendars.order_by("sort_order")] == ["全校", "3歳児", "4歳児", "5歳児"]


def test_a_class_calendar_key_is_stable_and_unique(school):
    extra = services.calendar_create(actor="test", school=school, audience=Calendar.Audience.CLASS, grade=2,
                                     class_name="ひまわり学級")
    again = services.calendar_create(actor="test", school=school, audience=Calendar.Audience.CLASS, grade=2,
                                     class_name="すみれ学級")
    assert (extra.key, again.key) == ("g2-x", "g2-x-2")
    with pytest.raises(IntegrityError), transaction.atomic():
        services.calendar_create(actor="test", school=school, audience=Calendar.Audience.CLASS, grade=2,
                                 class_name="ひまわり学級")


def test_create_gives_a_stable_uid_sequence_zero_a_revision_and_an_audit_entry(school, make_event):
    event = make_event("運動会", start_time=time(8, 45), end_time=time(15, 0))
    assert event.uid.endswith("@calendars.hiroba") and event.sequence == 0
    revision = event.revisions.get()
    assert (revision.action, revision.sequence, revision.actor_label) == (EventRevision.Action.CREATE, 0, "test")
    entry = AuditEntry.objects.get(action="calendars.event_create", object_id=str(event.pk))
    assert entry.changes["title"] == [None, "運動会"] and entry.changes["uid"] == event.uid


def test_an_update_bumps_the_sequence_once_and_records_what_changed(school, make_event, school_clerk):
    event = make_event("運動会")
    data = services.EventData(calendar=event.calendar, title="運動会（雨天順延）", start_date=date(2025, 5, 25),
                              end_date=date(2025, 5, 25))
    assert services.event_update(actor=school_clerk.user, event=event, data=data) is True
    event.refresh_from_db()
    assert (event.sequence, event.title, event.uid) == (1, "運動会（雨天順延）", event.uid)
    revision = event.revisions.first()
    assert revision.action == EventRevision.Action.UPDATE and revision.actor == school_clerk.user
    assert revision.changes["title"] == ["運動会", "運動会（雨天順延）"]
    entry = AuditEntry.objects.filter(action="calendars.event_update").get()
    assert entry.actor_id == school_clerk.user.pk and entry.changes["sequence"] == 1


def test_saving_an_unchanged_event_changes_nothing(school, make_event):
    event = make_event("運動会")
    data = services.EventData(calendar=event.calendar, title="運動会", start_date=event.start_date,
                              end_date=event.end_date)
    assert services.event_update(actor="test", event=event, data=data) is False
    event.refresh_from_db()
    assert event.sequence == 0 and event.revisions.count() == 1
    assert not AuditEntry.objects.filter(action="calendars.event_update").exists()


def test_cancel_and_restore_each_raise_the_sequence(school, make_event):
    event = make_event()
    cancelled = services.event_cancel(actor="test", event=event, reason="雨天のため")
    assert cancelled.status == Event.Status.CANCELLED and cancelled.cancelled_at and cancelled.sequence == 1
    assert services.event_cancel(actor="test", event=cancelled).sequence == 1  # idempotent
    restored = services.event_restore(actor="test", event=cancelled)
    assert restored.status == Event.Status.CONFIRMED and restored.cancelled_at is None and restored.sequence == 2
    actions = list(restored.revisions.order_by("created_at", "id").values_list("action", flat=True))
    assert actions == ["create", "cancel", "restore"]
    assert restored.revisions.get(action="cancel").changes["reason"] == ["", "雨天のため"]


def test_the_database_refuses_an_end_before_the_start(school):
    calendar = calendar_of(school, "全校")
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(calendar=calendar, school=school, uid="x@y", title="x", start_date=date(2025, 5, 2),
                             end_date=date(2025, 5, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(calendar=calendar, school=school, uid="y@y", title="x", all_day=False,
                             start_date=date(2025, 5, 1), end_date=date(2025, 5, 1),
                             start_time=time(10), end_time=time(9))
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(calendar=calendar, school=school, uid="z@y", title="x", start_date=date(2025, 5, 1),
                             end_date=date(2025, 5, 1), status="cancelled")


def test_the_service_refuses_invalid_data_before_the_database(school):
    data = services.EventData(calendar=calendar_of(school, "全校"), title="x", start_date=date(2025, 5, 2),
                              end_date=date(2025, 5, 1))
    with pytest.raises(ValidationError):
        services.event_create(actor="test", data=data)


def test_a_school_slug_may_not_take_a_reserved_path(school_departments):
    with pytest.raises(IntegrityError), transaction.atomic():
        School.objects.create(department=school_departments["kyoiku"], slug="my", name="x", short_name="x",
                              kind="elementary")


def test_terms_are_saved_once_per_name_and_year(school):
    term = services.term_save(actor="test", school=school, fiscal_year=2025, name="1学期",
                              start_date=date(2025, 4, 7), end_date=date(2025, 7, 18))
    same = services.term_save(actor="test", school=school, fiscal_year=2025, name="1学期",
                              start_date=date(2025, 4, 7), end_date=date(2025, 7, 18))
    moved = services.term_save(actor="test", school=school, fiscal_year=2025, name="1学期",
                               start_date=date(2025, 4, 8), end_date=date(2025, 7, 18))
    assert term.pk == same.pk == moved.pk and Term.objects.count() == 1
    assert AuditEntry.objects.filter(action="calendars.term_save").count() == 2
    services.term_delete(actor="test", term=moved)
    assert not Term.objects.exists()


def test_the_same_set_of_calendars_always_gives_the_same_family_url(school, other_school):
    a, b = calendar_of(school, "全校"), calendar_of(other_school, "3年")
    first = services.combination_get_or_create(calendars=[a, b])
    second = services.combination_get_or_create(calendars=[b, a, a])
    assert first.pk == second.pk and first.token == second.token
    assert len(first.token) >= 20  # unguessable: which child is in which class is not enumerable
    other = services.combination_get_or_create(calendars=[a])
    assert other.token != first.token
    with pytest.raises(ServiceError) as refused:
        services.combination_get_or_create(calendars=[])
    assert (refused.value.code, refused.value.field) == ("no_calendar", "calendars")


def test_the_database_refuses_a_weekend_rule_on_an_event_that_does_not_repeat(make_event):
    event = make_event("運動会")
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(off_day="next")
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(rrule="FREQ=WEEKLY;COUNT=3", off_day="sometimes")
