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


def test_production_mode_refuses_the_demo_secret_key(tmp_path):
    result = _import_settings({"HIROBA_DEBUG": "0", "HIROBA_SECRET_KEY": hiroba_settings.DEMO_SECRET_KEY,
                               "HIROBA_DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "HIROBA_SECRET_KEY" in result.stderr and "デモ用の秘密鍵" in result.stderr


def test_development_mode_accepts_the_demo_key(tmp_path):
    result = _import_settings({"HIROBA_DEBUG": "1", "HIROBA_SECRET_KEY": hiroba_settings.DEMO_SECRET_KEY,
                               "HIROBA_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr


def test_production_mode_starts_with_a_real_key(tmp_path):
    result = _import_settings({"HIROBA_DEBUG": "0", "HIROBA_SECRET_KEY": "x" * 60, "HIROBA_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr


def test_without_a_configured_key_an_instance_key_is_generated_once(tmp_path):
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIROBA_")}
    env.update({"HIROBA_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "hiroba.settings"})
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert len(key) >= 50 and key != hiroba_settings.DEMO_SECRET_KEY
    assert second.stdout.strip() == key
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


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


def test_the_page_title_names_the_page_and_the_site(client, db):
    html = client.get("/").content.decode()
    assert "<title>ホーム | 広場 hiroba</title>" in html
