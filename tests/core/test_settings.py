"""Settings come from the environment; production refuses the demo key."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from hiroba import settings as hiroba_settings


def _import_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HIROBA_")}
    clean.update(env)
    return subprocess.run([sys.executable, "-c", "import hiroba.settings"], env=clean,
                          capture_output=True, text=True, timeout=60)


def test_production_mode_refuses_the_demo_secret_key():
    result = _import_settings({"HIROBA_DEBUG": "0"})
    assert result.returncode != 0
    assert "HIROBA_SECRET_KEY" in result.stderr


def test_production_mode_starts_with_a_real_key():
    result = _import_settings({"HIROBA_DEBUG": "0", "HIROBA_SECRET_KEY": "x" * 60})
    assert result.returncode == 0, result.stderr


def test_envbool_rejects_nonsense(monkeypatch):
    monkeypatch.setenv("HIROBA_X", "perhaps")
    with pytest.raises(ImproperlyConfigured):
        hiroba_settings.envbool("HIROBA_X", False)


def test_envint_rejects_nonsense(monkeypatch):
    monkeypatch.setenv("HIROBA_X", "ten")
    with pytest.raises(ImproperlyConfigured):
        hiroba_settings.envint("HIROBA_X", 1)


def test_safe_defaults(settings):
    assert settings.TIME_ZONE == "Asia/Tokyo"
    assert settings.LANGUAGE_CODE == "ja"
    assert ("en", "English") in settings.LANGUAGES
    assert settings.SESSION_COOKIE_HTTPONLY and settings.X_FRAME_OPTIONS == "DENY"
    assert settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"] == ["'self'"]


def test_responses_carry_security_headers(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Request-ID"]


def test_the_public_page_has_no_external_assets(client, db):
    html = client.get("/").content.decode()
    assert "http://" not in html.replace("http://testserver", "") and "https://" not in html
