"""`hiroba demo`: two schools with a year (令和7年度) of events imported from the sample template."""

from __future__ import annotations

from datetime import date

from django.core.management import call_command

from hiroba.calendars.models import Event, ImportBatch, School


def test_the_demo_has_two_schools_with_a_year_of_events(db):
    call_command("demo", stdout=open("/dev/null", "w"))
    schools = list(School.objects.order_by("slug"))
    assert [s.slug for s in schools] == ["bancho", "kojimachi"]
    for school in schools:
        assert school.department.parent.code == "kyoiku"
        events = Event.objects.filter(school=school)
        assert events.count() == 61
        assert events.order_by("start_date").first().start_date == date(2025, 4, 7)
        assert events.order_by("-end_date").first().end_date == date(2026, 3, 31)
        assert school.terms.count() == 3
        assert ImportBatch.objects.get(school=school).state == ImportBatch.State.APPLIED
    call_command("demo", stdout=open("/dev/null", "w"))
    assert Event.objects.count() == 122 and ImportBatch.objects.count() == 2


def test_the_demos_monthly_drill_falls_on_school_days_only(db):
    import jpholiday

    from hiroba.calendars import demo, queries

    demo.load(lambda line: None)
    for school in School.objects.all():
        drill = Event.objects.get(school=school, ref="R7-061")
        assert drill.off_day == Event.OffDay.PREVIOUS
        days = [o.start for o in queries.occurrences(school.calendars.all(), date(2025, 4, 1), date(2026, 3, 31))
                if o.event.pk == drill.pk]
        assert len(days) == 11  # every month but August (夏季休業日)
        assert not [d for d in days if d.weekday() >= 5 or jpholiday.is_holiday(d)]
        assert date(2025, 9, 12) in days and date(2025, 9, 15) not in days  # 敬老の日 → the Friday before
