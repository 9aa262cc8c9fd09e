"""The home page lists what a resident can do, from what each installed module declares."""

from __future__ import annotations

import pytest
from django.apps import apps

pytestmark = pytest.mark.django_db


def test_the_home_page_links_every_module_a_resident_uses(client):
    page = client.get("/").content.decode()
    for config in apps.get_app_configs():
        for _url_name, label in getattr(config, "home_public", ()):
            assert str(label) in page, config.name
    assert 'href="/records/' in page and 'href="/security/report/' in page and 'href="/opendata/' in page


def test_in_english_too(client):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "See the list of the administrative record files the ward keeps" in page
