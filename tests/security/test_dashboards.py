"""The overdue dashboard and the CISO dashboard read in a fixed number of queries, however many
findings there are; they count what they should."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hiroba.security import access, queries
from hiroba.security.models import DiagnosisRound, Finding, FindingStatus, Rule

pytestmark = pytest.mark.django_db


def add_findings(site, n: int, start: int = 0) -> None:
    rnd = DiagnosisRound.objects.create(system=site, fiscal_year=2024, performed_on=date(2024, 10, 1), tool="zap",
                                        file_format="zap-json")
    rule, _ = Rule.objects.get_or_create(source="zap", rule_id="1", defaults={"name": "x"})
    Finding.objects.bulk_create([Finding(
        system=site, key=f"{i:064d}", rule=rule, title="t", severity=1 + i % 4, method="GET", path=f"/{i}",
        uri=f"/{i}", status=FindingStatus.OPEN if i % 5 else FindingStatus.RESOLVED,
        due_on=date(2025, 1, 1) + timedelta(days=i % 200), first_round=rnd, last_round=rnd,
        first_seen_on=date(2024, 10, 1), last_seen_on=date(2024, 10, 1)) for i in range(start, start + n)])


def count_queries(user, **kwargs) -> tuple[int, object]:
    access.OFFICE.forget(user)
    with CaptureQueriesContext(connection) as ctx:
        dash = queries.overdue_dashboard(user, **kwargs)
    return len(ctx.captured_queries), dash


def test_the_overdue_dashboard_takes_the_same_number_of_queries_for_10_and_2000_findings(site, office_clerk):
    add_findings(site, 10)
    small, dash = count_queries(office_clerk, today=date(2025, 3, 1))
    add_findings(site, 1990, start=10)
    large, dash = count_queries(office_clerk, today=date(2025, 3, 1))
    assert small == large
    assert dash.open_total == 1600  # every fifth is resolved
    expected_overdue = sum(1 for i in range(2000) if i % 5 and date(2025, 1, 1) + timedelta(days=i % 200)
                           < date(2025, 3, 1))
    assert dash.overdue_total == expected_overdue
    assert dash.rows[0].name.endswith("高齢介護課")
    assert all(f.due_on < date(2025, 3, 1) for f in dash.most_overdue)


def test_the_dashboard_page_has_a_fixed_number_of_queries(client, site, office_clerk):
    client.force_login(office_clerk)
    add_findings(site, 5)
    client.get(reverse("security_staff:overdue"))
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("security_staff:overdue")).status_code == 200
    add_findings(site, 500, start=5)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("security_staff:overdue")).status_code == 200
    assert len(few.captured_queries) == len(many.captured_queries)
    with CaptureQueriesContext(connection) as home_few:
        assert client.get(reverse("security_staff:home")).status_code == 200
    add_findings(site, 500, start=505)
    with CaptureQueriesContext(connection) as home_many:
        assert client.get(reverse("security_staff:home")).status_code == 200
    assert len(home_few.captured_queries) == len(home_many.captured_queries)
