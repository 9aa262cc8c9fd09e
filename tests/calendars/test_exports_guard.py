"""Calendar CSVs (the editable template and the open data) neutralise every text a spreadsheet
would run as a formula (issue 13.7), and a neutralised file imports back to the same events."""

from __future__ import annotations

import pytest

from hiroba.calendars import exports, sample, services
from hiroba.calendars.models import Event
from tests.formula_guard import STARTS, assert_guarded, csv_cells, poison, xlsx_cells

pytestmark = pytest.mark.django_db

EVENT_TEXTS = ["ref", "title", "location", "description", "url_label", "url"]
SCHOOL_TEXTS = ["name", "phone", "address"]


@pytest.mark.parametrize("start", STARTS)
def test_every_exported_text_of_an_event_is_guarded(school, make_event, start):
    event = make_event("運動会")
    planted_event = poison(event, EVENT_TEXTS, start)
    planted_school = poison(school, SCHOOL_TEXTS, start)
    events = Event.objects.select_related("calendar", "school")
    assert_guarded(csv_cells(exports.events_csv(events)), planted_event)
    open_data = csv_cells(exports.open_data_csv(events))
    assert_guarded(open_data, [planted_school["name"], planted_school["phone"], planted_school["address"],
                               planted_event["description"], planted_event["location"], planted_event["url"]])


def test_a_guarded_template_imports_back_unchanged(school, make_event):
    make_event("=1+1", description="-持ち物は別紙", location="@体育館")
    events = Event.objects.select_related("calendar", "school")
    exported = exports.events_csv(events)
    assert "'=1+1" in csv_cells(exported)
    batch = services.import_preview(actor="test", school=school, filename="events.csv", content=exported)
    assert batch.errors == []
    applied = services.import_apply(actor="test", batch=batch)
    assert applied.summary["unchanged"] == 1
    event = Event.objects.get()
    assert (event.title, event.description, event.location) == ("=1+1", "-持ち物は別紙", "@体育館")


def test_the_sample_template_has_no_formula_cells():
    xlsx_cells(sample.as_xlsx())  # every text a string cell
    assert not any(isinstance(c, str) and c.startswith(STARTS) for c in csv_cells(sample.as_csv()))
