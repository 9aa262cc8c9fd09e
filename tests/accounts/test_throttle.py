"""Sign-up and password reset are rate-limited per address and per e-mail address, with hiroba's
Japanese 429 page (issue 13.8)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hiroba.accounts.models import User

pytestmark = pytest.mark.django_db
PASSWORD = "Sakura-Namiki-2025"


@pytest.fixture
def tight(settings):
    settings.HIROBA_RATE_LIMITS = {**settings.HIROBA_RATE_LIMITS, "accounts.signup": "2/h/ip,100/h/key",
                                   "accounts.password_reset": "100/h/ip,2/h/key"}


def test_sign_ups_from_one_address_are_limited(client, tight):
    statuses = [client.post(reverse("account_signup"), {"email": f"kumin{i}@example.jp", "password1": PASSWORD,
                                                        "password2": PASSWORD}).status_code for i in range(3)]
    assert statuses == [302, 302, 429]
    assert User.objects.count() == 2


def test_password_resets_for_one_address_are_limited_from_anywhere(client, tight, resident, mailoutbox, settings,
                                                                   django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        responses = [client.post(reverse("account_reset_password"), {"email": resident.email},
                                 REMOTE_ADDR=f"198.51.100.{i}") for i in range(3)]
    assert [r.status_code for r in responses] == [302, 302, 429]
    assert responses[-1]["Retry-After"] and "しばらく時間をおいてから" in responses[-1].content.decode()
    assert len(mailoutbox) == 2
