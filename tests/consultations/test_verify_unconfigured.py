"""Identity verification when no OIDC provider is configured: a Japanese page, never a 500 (13.11)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_callback_without_a_configured_provider_answers_in_japanese(client, settings):
    settings.CONSULTATIONS_OIDC = None
    response = client.get("/consultations/verify/callback/?code=x&state=y")
    assert response.status_code == 400
    assert "本人確認ができませんでした" in response.content.decode()


def test_starting_verification_without_a_provider_answers_in_japanese(client, make_case, settings):
    settings.CONSULTATIONS_OIDC = None
    case = make_case(identity_level="verified")
    response = client.get(f"/consultations/{case.slug}/verify/")
    assert response.status_code == 503 and "本人確認サービスが設定されていません" in response.content.decode()
