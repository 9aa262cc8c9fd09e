"""The staff screens of the opinion analysis: start a run, follow it, see campaigns and groups,
answer them at once, use a suggested past answer on the item page; who may do what."""

from __future__ import annotations

import re

import pytest

from hiroba.accounts.models import Role
from hiroba.consultations import services
from hiroba.consultations.models import AnalysisRun, Case, Item

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("immediate_tasks")]


@pytest.fixture
def analysed(answering_case, client, django_capture_on_commit_callbacks):
    case, clerk = answering_case
    client.force_login(clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/staff/consultations/{case.slug}/analysis/start/")
    assert response.status_code == 302
    return case, clerk


def url(case, tail=""):
    return f"/staff/consultations/{case.slug}/analysis/{tail}"


def test_the_case_page_links_to_the_analysis(client, answering_case):
    case, clerk = answering_case
    client.force_login(clerk)
    assert f'href="{url(case)}"' in client.get(f"/staff/consultations/{case.slug}/").content.decode()


def test_before_any_run_the_page_offers_to_run_it(client, answering_case):
    case, clerk = answering_case
    client.force_login(clerk)
    page = client.get(url(case)).content.decode()
    assert "この案件はまだ分析していません。" in page and "分析を実行" in page


def test_a_queued_run_shows_its_progress_with_a_refresh_link(client, answering_case, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    case, clerk = answering_case
    client.force_login(clerk)
    client.post(url(case, "start/"))
    AnalysisRun.objects.filter(case=case).update(state="running", stage="groups", done=3, total=12)
    page = client.get(url(case)).content.decode()
    assert '<progress id="analysis-progress" max="100" value="25">' in page
    assert 'role="status" aria-live="polite"' in page and "実行中：同趣旨の意見のまとまりの検出（25%）" in page
    assert "表示を更新する" in page and "consultations/analysis-progress.js" in page
    assert "<button" not in page.split("実行状況")[1].split("</section>")[0]  # no second run meanwhile
    data = client.get(url(case, "progress.json")).json()
    assert data == {
        "state": "running",
        "state_label": "実行中",
        "stage": "同趣旨の意見のまとまりの検出",
        "done": 3,
        "total": 12,
        "percent": 25,
        "text": "実行中：同趣旨の意見のまとまりの検出（25%）",
    }


def test_the_overview_lists_campaigns_and_groups_with_their_evidence(client, analysed, django_assert_max_num_queries):
    case, clerk = analysed
    with django_assert_max_num_queries(16):
        response = client.get(url(case))
    page = response.content.decode()
    assert response.status_code == 200
    assert "同じ文面のまとまり 1 件（件数の多い順）" in page and "同趣旨のまとまり 1 件（件数の多い順）" in page
    assert f'href="{url(case, "campaign/c1/")}"' in page and f'href="{url(case, "group/g1/")}"' in page
    for number in range(1, 8):
        assert f'href="/staff/consultations/{case.slug}/items/{number}/"' in page
    assert "0.90〜1.00" in page and "図書館" in page
    assert client.get(url(case, "progress.json")).json()["state"] == "done"


def test_the_overview_does_not_grow_in_queries_with_more_campaigns(
    client, answering_case, submit, make_case, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    case, clerk = answering_case
    Case.objects.filter(pk=case.pk).update(state=Case.State.OPEN)
    case.refresh_from_db()
    letters = [
        "公民館の利用料金を値下げしてください。利用する団体が減っています。",
        "自転車の駐輪場を駅前に増やしてください。歩道に自転車があふれています。",
        "区のホームページを多言語に対応させてください。外国人住民が読めません。",
    ]
    extra = [submit(case, text) for text in letters for _ in range(2)]
    Case.objects.filter(pk=case.pk).update(state=Case.State.ANSWERING)
    for sub in extra:
        services.item_create(actor=clerk, submission=sub, span=(0, len(sub.text)))
    client.force_login(clerk)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(case, "start/"))
    with django_assert_max_num_queries(16):
        page = client.get(url(case)).content.decode()
    assert "同じ文面のまとまり 4 件" in page


def test_a_campaign_page_shows_the_evidence_and_answers_the_ticked_members(client, analysed):
    case, clerk = analysed
    page = client.get(url(case, "campaign/c1/")).content.decode()
    assert "共通する文" in page and "窓口の職員を減らさないでください。" in page and "代表の意見と同じ文面" in page
    assert "代表との類似度 0.90" in page and 'name="one_row"' in page
    assert len(re.findall(r'name="members" value="\d+" id="id_members_\d+" checked', page)) == 5
    response = client.post(
        url(case, "campaign/c1/"), {"members": ["1", "2", "3", "4"], "text": "窓口は維持します。", "one_row": "on"}
    )
    assert response.status_code == 302
    items = {i.number: i for i in Item.objects.filter(case=case, number__lte=5)}
    assert {n for n, i in items.items() if i.answer and i.answer.text == "窓口は維持します。"} == {1, 2, 3, 4}
    assert items[5].answer is None  # left out
    assert {n for n, i in items.items() if i.represented_by_id == items[1].pk} == {2, 3, 4}
    page = client.get(url(case, "campaign/c1/")).content.decode()
    assert "4件の意見に同じ区の考え方を保存しました。" in page and "No.1 の行で公表" in page


def test_a_campaign_answer_without_text_or_members_is_refused(client, analysed):
    case, clerk = analysed
    response = client.post(url(case, "campaign/c1/"), {"members": [], "text": ""})
    page = response.content.decode()
    assert response.status_code == 400
    assert "回答する意見を選んでください。" in page and "区の考え方を入力してください。" in page
    assert client.post(url(case, "campaign/c1/"), {"members": ["8"], "text": "x"}).status_code == 400  # not a member
    assert not Item.objects.filter(case=case).exclude(answer=None).exists()


def test_a_group_page_shows_terms_similarity_and_answers_all_at_once(client, analysed):
    case, clerk = analysed
    page = client.get(url(case, "group/g1/")).content.decode()
    assert "特徴的な語" in page and "図書館" in page and "中心の意見" in page and "中心との類似度" in page
    assert 'name="one_row"' not in page
    client.post(url(case, "group/g1/"), {"members": ["6", "7"], "text": "開館時間の延長を検討します。"})
    assert set(
        Item.objects.filter(case=case, answer__text="開館時間の延長を検討します。").values_list("number", flat=True)
    ) == {6, 7}


def test_an_unknown_campaign_or_kind_is_404(client, analysed):
    case, clerk = analysed
    assert client.get(url(case, "campaign/c99/")).status_code == 404
    assert client.get(url(case, "cluster/c1/")).status_code == 404


def test_the_item_page_shows_its_campaign_and_suggested_past_answers(
    client, analysed, make_case, submit, django_capture_on_commit_callbacks
):
    case, clerk = analysed
    past = make_case(slug="past-plan", state=Case.State.OPEN)
    sub = submit(past, "窓口を縮小しないでください。高齢者には対面の窓口が必要です。")
    Case.objects.filter(pk=past.pk).update(state=Case.State.ANSWERING)
    item = services.item_create(actor=clerk, submission=sub, span=(0, len(sub.text)))
    services.answer_write(actor=clerk, items=[item], text="対面の窓口は今後も維持します。")
    Case.objects.filter(pk=past.pk).update(state=Case.State.PUBLISHED)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(case, "start/"))
    page = client.get(f"/staff/consultations/{case.slug}/items/4/").content.decode()
    assert "同じ文面の意見のまとまり" in page and f'href="{url(case, "campaign/c1/")}">c1</a>（5件）' in page
    assert "過去の回答からの候補" in page and "窓口を縮小しないでください。" in page and "past-plan#1" in page
    response = client.post(
        f"/staff/consultations/{case.slug}/items/4/", {"action": "use_suggestion", "suggestion": "0"}
    )
    assert response.status_code == 200
    assert "対面の窓口は今後も維持します。</textarea>" in response.content.decode()
    assert Item.objects.get(case=case, number=4).answer is None  # only put in the field, not saved
    bad = client.post(f"/staff/consultations/{case.slug}/items/4/", {"action": "use_suggestion", "suggestion": "9"})
    assert bad.status_code == 404
    campaign_page = client.get(url(case, "campaign/c1/")).content.decode()
    assert "対面の窓口は今後も維持します。</textarea>" in campaign_page  # the best past answer, pre-filled


def test_read_only_staff_see_the_results_but_cannot_run_or_answer(client, make_staff, analysed):
    case, clerk = analysed
    reader = make_staff(email="reader@example.jp", role=Role.READ).user
    client.force_login(reader)
    page = client.get(url(case)).content.decode()
    assert "同じ文面のまとまり 1 件" in page and "分析を実行" not in page
    assert client.post(url(case, "start/")).status_code == 403
    detail = client.get(url(case, "campaign/c1/")).content.decode()
    assert 'name="members"' not in detail and "まとめて回答する" not in detail
    assert client.post(url(case, "campaign/c1/"), {"members": ["1"], "text": "x"}).status_code == 403
    assert (
        client.post(
            f"/staff/consultations/{case.slug}/items/1/", {"action": "use_suggestion", "suggestion": "0"}
        ).status_code
        == 403
    )
    assert not Item.objects.filter(case=case).exclude(answer=None).exists()


def test_another_departments_staff_get_404(client, make_staff, analysed):
    case, clerk = analysed
    client.force_login(make_staff(email="other@example.jp", department="welfare").user)
    for path in ("", "progress.json", "campaign/c1/"):
        assert client.get(url(case, path)).status_code == 404
    assert client.post(url(case, "start/")).status_code == 404
    assert client.post(url(case, "campaign/c1/"), {"members": ["1"], "text": "x"}).status_code == 404


def test_locked_answers_hide_the_form_and_refuse_a_post(client, analysed):
    case, clerk = analysed
    Case.objects.filter(pk=case.pk).update(state=Case.State.APPROVING)
    page = client.get(url(case, "campaign/c1/")).content.decode()
    assert 'name="members"' not in page
    response = client.post(url(case, "campaign/c1/"), {"members": ["1", "2"], "text": "窓口は維持します。"})
    assert response.status_code == 400 and "決裁中または公表済みのため" in response.content.decode()


def test_a_failed_run_shows_its_error(client, answering_case, monkeypatch, django_capture_on_commit_callbacks):
    case, clerk = answering_case
    client.force_login(clerk)

    def boom(*args, **kwargs):
        raise RuntimeError("辞書が見つかりません")

    monkeypatch.setattr("hiroba.analysis.report.analyze", boom)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(case, "start/"))
    page = client.get(url(case)).content.decode()
    assert "分析は失敗しました" in page and "RuntimeError: 辞書が見つかりません" in page and "分析を実行" in page


def test_the_web_process_does_not_load_the_analysis_package_until_a_run():
    import os
    import subprocess
    import sys

    code = (
        "import django, sys; django.setup(); import hiroba.urls, hiroba.consultations.analysis_views; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('scipy', 'sklearn', 'sudachipy')"
        " or m.startswith('hiroba.analysis')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "hiroba.settings"},
    )
    assert out.stdout.strip() == "[]"  # numpy itself comes with openpyxl
