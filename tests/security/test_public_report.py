"""The public 「セキュリティに関するご連絡」 form: anyone can report; the report is filed as an
incident with a 受付番号 shown after the commit; the CISO office is told; bots are refused."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hiroba.core.models import Notification
from hiroba.security.models import Incident, TimelineEntry

pytestmark = pytest.mark.django_db


def test_anyone_reports_and_gets_a_receipt_number(client, departments, office_clerk):
    page = client.get(reverse("security:report"))
    assert page.status_code == 200 and "セキュリティに関するご連絡" in page.content.decode()
    response = client.post(reverse("security:report"), {
        "description": "検索結果に区の未納税者一覧らしきものが表示されます。\nキャッシュに残っています。",
        "related_url": "https://www.example.lg.jp/files/list.xlsx", "email": "kumin@example.jp", "website": "",
    })
    assert response.status_code == 303
    incident = Incident.objects.get()
    assert incident.channel == Incident.Channel.PUBLIC_FORM and incident.department == departments["systems"]
    assert incident.receipt_number.startswith("SEC") and incident.receipt_number.endswith("-0001")
    assert incident.title == "検索結果に区の未納税者一覧らしきものが表示されます。"
    receipt = client.get(response["Location"])
    assert incident.receipt_number in receipt.content.decode()
    assert TimelineEntry.objects.filter(incident=incident, kind="detection").exists()
    recipients = set(Notification.objects.values_list("recipient", flat=True))
    assert recipients == {"ciso@example.jp", "kumin@example.jp"}
    office_mail = Notification.objects.get(recipient="ciso@example.jp")
    assert incident.receipt_number in office_mail.subject


def test_numbers_follow_one_another(client, departments, office_clerk):
    for text in ("一件目", "二件目"):
        client.post(reverse("security:report"), {"description": text, "website": ""})
    numbers = sorted(Incident.objects.values_list("receipt_number", flat=True))
    assert [n[-4:] for n in numbers] == ["0001", "0002"]


def test_an_empty_report_is_refused_with_the_field_named(client, departments):
    response = client.post(reverse("security:report"), {"description": "", "website": ""})
    assert response.status_code == 400 and "ご連絡の内容" in response.content.decode()
    assert not Incident.objects.exists()


def test_the_honeypot_refuses_a_bot_and_files_nothing(client, departments):
    response = client.post(reverse("security:report"), {"description": "spam", "website": "http://spam.example"})
    assert response.status_code == 400 and not Incident.objects.exists()


def test_the_receipt_link_cannot_be_forged(client, departments):
    assert client.get(reverse("security:receipt", args=["SEC2026-0001"])).status_code == 404


def test_reports_from_one_address_are_rate_limited(client, departments, settings):
    settings.HIROBA_RATE_LIMITS = {**settings.HIROBA_RATE_LIMITS, "security.report": settings.DEFAULT_RATE_LIMITS[
        "security.report"]}
    statuses = [client.post(reverse("security:report"), {"description": f"第{i}報", "website": ""}).status_code
                for i in range(11)]
    assert statuses == [303] * 10 + [429]
    assert Incident.objects.count() == 10
