"""A grouped answer (同趣旨の意見) is never changed for the others by surprise: before saving, the
item page shows which items share the answer and lets the clerk choose — change it for all of
them, or give this item its own answer."""

from __future__ import annotations

import pytest

from hiroba.consultations.models import Answer, Item
from hiroba.core.models import AuditEntry

pytestmark = pytest.mark.django_db
GROUP_ANSWER = "オンライン申請の対象を順次広げてまいります。"


@pytest.fixture
def page(client, answered_case, clerk):
    client.force_login(clerk)
    return f"/staff/consultations/{answered_case.slug}/items/2/"


def answers(case) -> dict[int, str]:
    return {i.number: i.answer.text for i in Item.objects.filter(case=case).select_related("answer")}


def test_editing_a_grouped_answer_first_shows_who_shares_it_and_saves_nothing(client, answered_case, page):
    response = client.post(page, {"action": "save_answer", "text": "新しい回答"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "この回答は、ほかの意見と共通です" in html
    assert f'href="/staff/consultations/{answered_case.slug}/items/3/">No.3</a>' in html
    assert 'name="scope" value="all"' in html and 'name="scope" value="own"' in html
    assert "<legend>No.2 の回答の変更をどうしますか</legend>" in html
    assert answers(answered_case)[2] == answers(answered_case)[3] == GROUP_ANSWER
    assert not AuditEntry.objects.filter(action="consultations.answer_update").exists()


def test_choosing_all_changes_the_answer_of_every_item_in_the_group(client, answered_case, page):
    response = client.post(page, {"action": "save_answer", "text": "新しい回答", "scope": "all", "group": "3"})
    assert response.status_code == 302
    assert answers(answered_case)[2] == answers(answered_case)[3] == "新しい回答"
    answer = Item.objects.get(case=answered_case, number=2).answer
    assert list(answer.versions.values_list("version", "text")) == [(1, GROUP_ANSWER), (2, "新しい回答")]


def test_choosing_own_gives_this_item_its_own_answer_and_leaves_the_others(client, answered_case, page):
    group = Item.objects.get(case=answered_case, number=3).answer
    response = client.post(page, {"action": "save_answer", "text": "No.2 だけの回答", "scope": "own", "group": "3"})
    assert response.status_code == 302
    assert answers(answered_case) == {1: answers(answered_case)[1], 2: "No.2 だけの回答", 3: GROUP_ANSWER}
    assert Answer.objects.get(pk=group.pk).text == GROUP_ANSWER and group.version == 1
    entry = AuditEntry.objects.filter(action="consultations.answer_write").order_by("-seq").first()
    assert entry.changes["items"] == [2] and entry.changes["replaced"] == {"2": group.pk}


def test_it_asks_again_when_the_group_changed_after_it_was_shown(client, answered_case, page):
    # the clerk saw No.3 only; meanwhile No.1 was grouped with them too
    Item.objects.filter(case=answered_case, number=1).update(answer=Item.objects.get(case=answered_case, number=2).answer)
    response = client.post(page, {"action": "save_answer", "text": "新しい回答", "scope": "all", "group": "3"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "表示した後に変わりました" in html and "/items/1/" in html
    assert answers(answered_case)[3] == GROUP_ANSWER


def test_an_answer_no_other_item_shares_is_saved_without_asking(client, answered_case, clerk):
    client.force_login(clerk)
    url = f"/staff/consultations/{answered_case.slug}/items/1/"
    assert client.post(url, {"action": "save_answer", "text": "No.1 の新しい回答"}).status_code == 302
    assert answers(answered_case)[1] == "No.1 の新しい回答"


def test_saving_an_answer_and_grouping_others_under_it_is_all_or_nothing(answered_case, make_case, clerk, submit):
    """`answer_save` edits the answer and puts the other items under it in one transaction: an item
    that cannot join (another case's) leaves the answer as it was, with no new version."""
    from hiroba.consultations import services
    from hiroba.consultations.services import ConsultationError

    item = Item.objects.select_related("answer").get(case=answered_case, number=1)
    before = (item.answer.text, item.answer.version)
    stranger = make_case(slug="other-case")
    other = services.item_create(actor=clerk, submission=submit(stranger, "別の案件の意見です。"), span=(0, 5))
    with pytest.raises(ConsultationError):
        services.answer_save(actor=clerk, item=item, text="変えた回答", also_items=[other])
    answer = Answer.objects.get(pk=item.answer_id)
    assert (answer.text, answer.version) == before and answer.versions.count() == before[1]
    other.refresh_from_db()
    assert other.answer_id is None
