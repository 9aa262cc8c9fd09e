"""application_consent: the guardian's link counts the application; bad, late or old links change nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from hiroba.core.models import AuditEntry
from hiroba.workshops import services
from hiroba.workshops.models import Application
from hiroba.workshops.services import WorkshopError
from tests.workshops.conftest import JST, OPEN_DAY, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(programme, submit):
    return submit(programme, 0, consent=False)


def test_the_guardian_confirms_and_the_application_counts(pending, mailoutbox, django_capture_on_commit_callbacks):
    token = services.consent_token(pending)
    with at(OPEN_DAY + timedelta(days=1)), django_capture_on_commit_callbacks(execute=True):
        app = services.application_consent(token=token, guardian_name="千代田 保護者")
    assert app.status == Application.Status.CONFIRMED
    assert app.consented_by_name == "千代田 保護者" and app.consented_at is not None
    assert list(Application.objects.counted()) == [app]
    assert AuditEntry.objects.filter(action="workshops.application_consent", object_id=str(app.pk)).exists()
    assert any("申込みを受け付けました" in m.subject for m in mailoutbox)


def test_a_second_click_changes_nothing(pending):
    token = services.consent_token(pending)
    with at(OPEN_DAY):
        first = services.application_consent(token=token, guardian_name="A")
        again = services.application_consent(token=token, guardian_name="B")
    assert again.consented_at == first.consented_at and again.consented_by_name == "A"


def test_it_refuses_after_the_consent_deadline(pending):
    token = services.consent_token(pending)
    with at(datetime(2025, 7, 23, 0, 0, tzinfo=JST)), pytest.raises(WorkshopError) as error:
        services.application_consent(token=token, guardian_name="A")
    assert "同意の期限（令和7年7月22日）を過ぎた" in error.value.message
    pending.refresh_from_db()
    assert pending.status == Application.Status.AWAITING_CONSENT and pending.consented_at is None


def test_it_refuses_an_expired_link(pending):
    with at(OPEN_DAY):
        token = services.consent_token(pending)
    with at(OPEN_DAY + timedelta(days=15)), pytest.raises(WorkshopError) as error:
        services.application_consent(token=token, guardian_name="A")
    assert error.value.code == "expired" and "有効期限" in error.value.message


@pytest.mark.parametrize("mangle", [lambda t: t[:-2] + "xx", lambda t: "abc", lambda t: t.replace(":", ";", 1)])
def test_it_refuses_a_tampered_link(pending, mangle):
    with pytest.raises(WorkshopError) as error:
        services.application_consent(token=mangle(services.consent_token(pending)), guardian_name="A")
    assert error.value.code == "bad_token"
    pending.refresh_from_db()
    assert pending.consented_at is None


def test_a_resent_link_replaces_the_old_one(pending, make_staff, django_capture_on_commit_callbacks, mailoutbox):
    old = services.consent_token(pending)
    staff = make_staff()
    with at(OPEN_DAY), django_capture_on_commit_callbacks(execute=True):
        services.consent_request_resend(actor=staff.user, application=pending, site_url="https://hiroba.example")
    pending.refresh_from_db()
    with pytest.raises(WorkshopError):
        services.application_consent(token=old, guardian_name="A")
    with at(OPEN_DAY):
        assert services.application_consent(token=services.consent_token(pending), guardian_name="A").consented_at
    assert len([m for m in mailoutbox if m.to == ["guardian0@example.jp"]]) == 1
