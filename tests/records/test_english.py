"""The records pages in English: headings, labels, captions and sentences carry no template
Japanese (register data — titles, classifications, departments — stays as entered)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hiroba.records import guidelines, scans, sharegen
from hiroba.records.models import RecordFile
from tests.security.test_english import assert_english, texts

pytestmark = pytest.mark.django_db


def test_the_staff_and_public_pages_are_english(client, tmp_path, expired_file, records_manager, departments):
    g = guidelines.guideline_create(actor="test", effective_on=expired_file.start_date)
    guidelines.guideline_publish(actor="test", guideline=g)
    root = tmp_path / "share"
    sharegen.generate(root, files=200, seed=2)
    scan, _ = scans.run_scan(actor="test", path=str(root))
    client.force_login(records_manager)
    names = tuple(d.name for d in departments.values()) + tuple(d.full_name for d in departments.values())
    data = names + (expired_file.name, expired_file.large, expired_file.medium, expired_file.small, expired_file.author,
                    expired_file.location, expired_file.manager, str(g), "電子", "廃棄", "5年", "保存中", "平成30年度",
                    "令和6年3月31日", "平成31年4月1日", "令和6年", "平成31年", "年", "月", "日")
    for url in (reverse("records_staff:home"), reverse("records_staff:files"), reverse("records_staff:file_import"),
                reverse("records_staff:file_new"), reverse("records_staff:file", args=[expired_file.pk]),
                reverse("records_staff:expiry"), reverse("records_staff:approvals"), reverse("records_staff:scans"),
                reverse("records:register")):
        html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert_english(texts(html, "h1", "h2", "th", "label", "button", "caption"), data)
    html = client.get(reverse("records_staff:scan", args=[scan.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert_english(texts(html, "h1", "h2", "dt", "caption", "summary", "figcaption"), data)
    assert RecordFile.objects.count() == 1
