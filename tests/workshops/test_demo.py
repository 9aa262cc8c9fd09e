"""hiroba demo: the 2025 junior-high workshop with generated applicants, deterministic and idempotent."""

from __future__ import annotations

import hashlib

import pytest

from hiroba.accounts import demo as accounts_demo
from hiroba.workshops import demo, lottery
from hiroba.workshops.models import Application, Programme

pytestmark = pytest.mark.django_db
FROZEN = ("7c5f0b09f91c3521edb4abda19ed71edc6b45447f277645f4eeeced977d8f1a5",
          "0db5ed0dc3592392129780c2f56d486beac5da828190cf84abe80d5671e8c167")


def _snapshot() -> list[tuple]:
    return list(Application.objects.order_by("receipt_number").values_list(
        "receipt_number", "student_kana", "birth_date", "school_name", "grade", "status", "lottery_rank"))


def test_it_loads_the_2025_workshop_reproducibly_and_only_once():
    lines: list[str] = []
    accounts_demo.load(lines.append)
    demo.load(lines.append)
    programme = Programme.objects.get(code="r7-jhs")
    assert programme.title == "令和7年度 中学生デジタルワークショップ"
    assert programme.capacity == 15 and programme.sessions.count() == 8
    assert programme.applications.count() == 24
    assert programme.applications.filter(status="selected").count() == 15
    assert programme.applications.filter(status="lapsed").count() == 2
    draw = programme.lottery
    _, _, again = lottery.run(draw.public_value, draw.entries_text, capacity=15, waitlist_size=5)
    assert again.order == draw.result["order"] and again.selected == draw.result["selected"]
    first = _snapshot()
    demo.load(lines.append)
    assert _snapshot() == first and "既に読み込み済み" in lines[-1]
    # Same people and the same result on every fresh database: a frozen fingerprint.
    fingerprint = hashlib.sha256(repr(first).encode()).hexdigest()
    assert (draw.entries_digest, fingerprint) == FROZEN, (draw.entries_digest, fingerprint)
