"""The audit-log screen is paged by the shared pagination (core.paging, includes/pagination.html),
and its filters stay in the page links."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hiroba.accounts.models import Role
from hiroba.core import audit

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_staff):
    client.force_login(make_staff(email="admin@example.jp", department="systems", role=Role.ADMIN).user)
    return client


def test_the_audit_log_is_paged_and_keeps_its_filter(admin_client):
    for n in range(55):  # one page holds 50
        audit.record(actor="system", action="consultations.case_transition", object_type="consultations.case",
                     object_id=str(n), object_repr=f"案件{n}")
    url = reverse("staff:audit_log") + "?action=consultations.case_transition"
    first = admin_client.get(url).content.decode()
    assert 'class="pagination"' in first and "次のページ" in first
    assert "action=consultations.case_transition" in first and "page=2" in first  # the filter stays
    second = admin_client.get(url + "&page=2").content.decode()
    assert "前のページ" in second and "案件0<" in second and "案件54<" not in second  # newest first
