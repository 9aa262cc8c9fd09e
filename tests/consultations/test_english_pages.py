"""The new consultation screens in English: a closed case awaiting its results, where to submit,
the 訂正 notes and versions of published results, and the staff approval, route, publish and
submitters pages. Only what the ward wrote (titles, headings, places, notes) stays Japanese."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse

from hiroba.accounts import demo as accounts_demo
from hiroba.accounts.models import User
from hiroba.consultations import demo as consultations_demo
from hiroba.consultations.models import Case
from tests.core.test_i18n import _assert_english, _case_data, _elements, _main, _text

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    accounts_demo.load(lambda line: None)
    consultations_demo.load(lambda line: None)
    return {slug: Case.objects.get(slug=slug) for slug in
            (consultations_demo.SEED_SLUG, consultations_demo.OPEN_SLUG, consultations_demo.CLOSED_SLUG)}


@pytest.fixture
def staff_client(client, demo):
    staff = User.objects.get(email="dx.clerk@hiroba.example")
    TOTP.activate(staff, generate_totp_secret())
    client.force_login(staff)
    return client


def test_a_closed_case_and_where_to_submit_are_english(client, demo):
    closed = demo[consultations_demo.CLOSED_SLUG]
    html = _main(client, closed.get_absolute_url())
    _assert_english(_elements(html, "h1", "h2", "h3", "p", "dt", "dd", "strong"), data=_case_data(closed))
    text = _text(html)
    assert "This consultation has closed. Please wait for the results to be published." in text
    assert "Results expected on: " in text and "Comment on this section" not in text
    listing = _text(_main(client, reverse("consultations:list")))
    assert "Closed consultations (awaiting results)" in listing

    open_case = demo[consultations_demo.OPEN_SLUG]
    html = _main(client, open_case.get_absolute_url())
    section = html.split('id="how-to-submit"', 1)[1].split("</section>", 1)[0]
    _assert_english(_elements(section, "h2", "dt", "dd", "p"), data=_case_data(open_case))
    text = _text(section)
    assert "How and where to submit an opinion" in text and "Postmarked no later than " in text
    assert "Fax number 03-0000-0000" in text and "Received by 23:59 on " in text


def test_the_corrected_results_and_their_versions_are_english(client, demo):
    seed = demo[consultations_demo.SEED_SLUG]
    data = _case_data(seed)
    html = _main(client, reverse("consultations:results", args=[seed.slug]))
    _assert_english(_elements(html, "h1", "h2", "dt", "th", "caption"), data=data)
    text = _text(html)
    assert f"Corrected on 27 March 2025 (Reiwa 7) (version 2): {consultations_demo.CORRECTION_NOTE}" in text
    assert "Version 1 (published 13 March 2025 (Reiwa 7))" in text and "Published versions" in text
    assert "Open-data CSV (English field names)" in text
    old = _text(_main(client, reverse("consultations:results_version", args=[seed.slug, 1])))
    assert "This is an earlier version (version 1), before a correction." in old
    assert "Corrected on" not in old


def test_the_staff_approval_route_publish_and_submitters_pages_are_english(staff_client, demo):
    closed = demo[consultations_demo.CLOSED_SLUG]
    data = (*_case_data(closed), "係長", "課長", "部長", "政策経営部")
    html = _main(staff_client, reverse("consultations_staff:approval", args=[closed.slug]))
    _assert_english(_elements(html, "h1", "h2", "label", "button", "caption", "th"), data=data)
    text = _text(html)
    assert "Approval route" in text and "Staff with the approver role in " in text
    assert "Send for approval" in text

    html = _main(staff_client, reverse("consultations_staff:approval_route", args=[closed.slug]))
    _assert_english(_elements(html, "h1", "legend", "label", "button", "p"), data=data)
    assert "Step 1" in _text(html) and "Current route" in _text(html)

    html = _main(staff_client, reverse("consultations_staff:submitters", args=[closed.slug]))
    _assert_english(_elements(html, "h1", "label", "button"), data=data)
    assert "Exports 3 submissions as CSV" in _text(html)

    seed = demo[consultations_demo.SEED_SLUG]
    html = _main(staff_client, reverse("consultations_staff:publish", args=[seed.slug]))
    _assert_english(_elements(html, "h1", "h2"), data=_case_data(seed))
    assert "Version 2 (corrected 27 March 2025 (Reiwa 7))" in _text(html)
