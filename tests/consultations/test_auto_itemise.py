"""A web opinion for which the resident chose a section becomes one item of that section by itself
(issue 12.8); paper, imports and web opinions without a section are itemised by the clerk."""

from __future__ import annotations

import pytest

from hiroba.consultations.models import Channel, Item
from hiroba.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_a_web_opinion_with_a_section_is_one_item_for_it(case, submit, django_capture_on_commit_callbacks):
    section = case.sections.get(heading="基本的な考え方")
    with django_capture_on_commit_callbacks(execute=True):
        submission = submit(case, "窓口の時間を延ばしてください。", section=section)
    item = Item.objects.get()
    assert item.submission == submission and item.number == 1
    assert item.text == "窓口の時間を延ばしてください。"
    assert (item.span_start, item.span_end) == (0, len(submission.text))
    assert list(item.sections.all()) == [section]
    assert AuditEntry.objects.filter(action="consultations.item_create", object_id=str(item.pk)).exists()


def test_a_second_web_opinion_gets_the_next_number(case, submit, django_capture_on_commit_callbacks):
    section = case.sections.get(heading="全体")
    with django_capture_on_commit_callbacks(execute=True):
        submit(case, "一つ目", section=section)
        submit(case, "二つ目", section=section)
    assert list(Item.objects.order_by("number").values_list("number", "text")) == [(1, "一つ目"), (2, "二つ目")]


def test_without_a_section_or_on_paper_the_clerk_itemises(case, submit, django_capture_on_commit_callbacks):
    section = case.sections.get(heading="全体")
    with django_capture_on_commit_callbacks(execute=True):
        submit(case, "箇所を選ばない意見")
        submit(case, "郵送の意見", channel=Channel.POST, section=section)
    assert not Item.objects.exists()


def test_personal_information_in_the_automatic_item_is_proposed_for_masking(case, submit,
                                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        submit(case, "連絡は 03-1234-5678 までお願いします。", section=case.sections.first())
    assert Item.objects.get().masks.exists()
