"""The opinion analysis inside the consultation workflow: the background run and its progress,
campaigns and groups on the staff screens, answering them at once, one published row for
identical opinions, masks from the report's personal-information spans, permissions."""

from __future__ import annotations

import csv
import io
import json

import pytest

from hiroba.accounts.models import Role
from hiroba.consultations import analysis, exports, services
from hiroba.consultations.models import AnalysisRun, Case, Item, Mask
from hiroba.core.models import AuditEntry

pytestmark = pytest.mark.django_db

LETTER = ("区役所の窓口を縮小する計画に反対します。高齢者はオンライン手続きに慣れておらず、対面の窓口が"
          "必要です。窓口の職員を減らさないでください。区民の声を聞いて計画を見直してください。")
OTHERS = [
    "図書館の開館時間を夜九時まで延長してほしいです。仕事帰りに本を借りられません。",
    "公園のトイレが古くて使いにくいので、早く改修してください。",
    "学校の連絡をスクールカレンダーとしてスマートフォンに配信してほしいです。連絡先は03-1234-5678です。",
]


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def answering_case(make_case, submit, make_staff):
    case = make_case(state=Case.State.OPEN)
    texts = [LETTER] * 3 + [LETTER.replace("反対します", "強く反対します"), LETTER + "よろしくお願いします。"] + OTHERS
    subs = [submit(case, text, name=f"区民{n}") for n, text in enumerate(texts, 1)]
    clerk = make_staff(email="analyst@example.jp", role=Role.HANDLE).user  # at the submissions' time
    Case.objects.filter(pk=case.pk).update(state=Case.State.ANSWERING)
    case.refresh_from_db()
    for sub in subs:
        services.item_create(actor=clerk, submission=sub, span=(0, len(sub.text)))
    return case, clerk


def run_analysis(case, actor):
    analysis.analysis_request(actor=actor, case=case)  # ImmediateBackend runs it on commit
    run = analysis.latest_run(case)
    assert run.state == AnalysisRun.State.DONE, run.error
    return run


def test_a_run_finds_the_form_letter_campaign_and_records_itself(answering_case, django_capture_on_commit_callbacks):
    case, clerk = answering_case
    with django_capture_on_commit_callbacks(execute=True):
        analysis.analysis_request(actor=clerk, case=case)
    run = analysis.latest_run(case)
    assert run.state == AnalysisRun.State.DONE and run.percent == 100 and run.item_count == 8
    campaigns = analysis.clusters(run, "campaign")
    assert len(campaigns) == 1
    assert sorted(i.number for i in campaigns[0].items) == [1, 2, 3, 4, 5]
    assert campaigns[0].representative.number == 1
    assert campaigns[0].evidence["exact_copies"] >= 2
    assert AuditEntry.objects.filter(action="consultations.analysis_request", actor_id=clerk.pk).exists()
    assert AuditEntry.objects.filter(action="consultations.analysis_done").exists()
    # the same input gives the same report
    with django_capture_on_commit_callbacks(execute=True):
        analysis.analysis_request(actor=clerk, case=case)
    again = analysis.latest_run(case)
    assert again.pk != run.pk and again.report == run.report and again.input_digest == run.input_digest


def test_a_second_run_is_refused_while_one_is_queued(answering_case, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    case, clerk = answering_case
    analysis.analysis_request(actor=clerk, case=case)
    with pytest.raises(services.ConsultationError, match="実行中"):
        analysis.analysis_request(actor=clerk, case=case)


def test_a_failing_run_is_marked_failed_with_its_message(answering_case, settings, monkeypatch):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    case, clerk = answering_case
    run = analysis.analysis_request(actor=clerk, case=case)

    def boom(*args, **kwargs):
        raise ValueError("壊れた入力")

    monkeypatch.setattr("hiroba.analysis.report.analyze", boom)
    run = analysis.analysis_execute(run.pk)
    assert run.state == AnalysisRun.State.FAILED and "壊れた入力" in run.error


def test_answering_a_campaign_at_once_and_publishing_it_as_one_row(answering_case, django_capture_on_commit_callbacks):
    case, clerk = answering_case
    with django_capture_on_commit_callbacks(execute=True):
        analysis.analysis_request(actor=clerk, case=case)
    campaign = analysis.clusters(analysis.latest_run(case), "campaign")[0]
    answer = analysis.answer_many(actor=clerk, case=case, items=campaign.items, text="窓口は維持します。",
                                  one_row=True)
    assert set(Item.objects.filter(answer=answer).values_list("number", flat=True)) == {1, 2, 3, 4, 5}
    assert AuditEntry.objects.filter(action="consultations.items_one_row").exists()
    pub = exports.build(case)
    assert pub.item_count == 8 and len(pub.rows) == 4
    assert pub.rows[0].identical == 5 and all(r.identical == 1 for r in pub.rows[1:])
    rows = list(csv.reader(io.StringIO(exports.to_csv(pub).decode("utf-8-sig"))))
    assert rows[0][-1] == "identical_count" and rows[1][-1] == "5"
    data = json.loads(exports.to_json(pub))
    assert data["items"][0]["identical_count"] == 5 and data["consultation"]["rows_total"] == 4
    assert "同一の意見 5 件" in exports.to_html(pub).decode()
    analysis.one_row_undo(actor=clerk, item=Item.objects.get(case=case, number=1))
    assert len(exports.build(case).rows) == 8


def test_masks_come_from_the_reports_spans_once(answering_case, django_capture_on_commit_callbacks):
    case, clerk = answering_case
    Mask.objects.filter(item__case=case).delete()
    with django_capture_on_commit_callbacks(execute=True):
        analysis.analysis_request(actor=clerk, case=case)
    run = analysis.latest_run(case)
    item = Item.objects.get(case=case, number=8)
    masks = list(Mask.objects.filter(item=item))
    assert [(m.kind, item.text[m.start:m.end], m.decision) for m in masks] == [("phone", "03-1234-5678", "mask")]
    assert analysis.masks_from_run(run) == 0  # nothing new the second time
    assert "03-1234-5678" not in services.masked_text(item)


def test_staff_screens_show_campaigns_groups_and_suggestions(client, make_staff, answering_case,
                                                             django_capture_on_commit_callbacks):
    case, clerk = answering_case
    client.force_login(clerk)
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"/staff/consultations/{case.slug}/analysis/start/")
    assert resp.status_code == 302
    page = client.get(f"/staff/consultations/{case.slug}/analysis/").content.decode()
    assert "同じ文面の意見" in page and "c1" in page and "5件" in page
    progress = client.get(f"/staff/consultations/{case.slug}/analysis/progress.json").json()
    assert progress["state"] == "done" and progress["percent"] == 100
    detail = client.get(f"/staff/consultations/{case.slug}/analysis/campaign/c1/")
    assert detail.status_code == 200 and "共通する文" in detail.content.decode()
    resp = client.post(f"/staff/consultations/{case.slug}/analysis/campaign/c1/",
                       {"items": ["1", "2", "3"], "text": "窓口は維持します。", "one_row": "1"})
    assert resp.status_code == 302
    assert list(Item.objects.filter(case=case, answer__text="窓口は維持します。").values_list("number", flat=True)) \
        == [1, 2, 3]
    assert client.get(f"/staff/consultations/{case.slug}/analysis/campaign/c99/").status_code == 404
    item_page = client.get(f"/staff/consultations/{case.slug}/items/4/").content.decode()
    assert "同じ文面の意見" in item_page and "c1" in item_page


def test_suggestions_from_a_published_case_fill_the_answer_form(client, make_case, submit, answering_case,
                                                                django_capture_on_commit_callbacks):
    case, clerk = answering_case
    past = make_case(slug="past-plan", state=Case.State.OPEN)
    sub = submit(past, "窓口を縮小しないでください。高齢者には対面の窓口が必要です。")
    Case.objects.filter(pk=past.pk).update(state=Case.State.ANSWERING)
    past.refresh_from_db()
    item = services.item_create(actor=clerk, submission=sub, span=(0, len(sub.text)))
    services.answer_write(actor=clerk, items=[item], text="対面の窓口は今後も維持します。")
    Case.objects.filter(pk=past.pk).update(state=Case.State.PUBLISHED)
    client.force_login(clerk)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/staff/consultations/{case.slug}/analysis/start/")
    page = client.get(f"/staff/consultations/{case.slug}/items/1/").content.decode()
    assert "過去の回答からの候補" in page and "対面の窓口は今後も維持します。" in page
    resp = client.post(f"/staff/consultations/{case.slug}/items/1/", {"action": "use_suggestion", "suggestion": "0"})
    assert resp.status_code == 200
    assert '対面の窓口は今後も維持します。</textarea>' in resp.content.decode()


def test_read_only_staff_see_but_cannot_run_or_answer(client, make_staff, answering_case,
                                                       django_capture_on_commit_callbacks):
    case, clerk = answering_case
    with django_capture_on_commit_callbacks(execute=True):
        analysis.analysis_request(actor=clerk, case=case)
    reader = make_staff(email="reader@example.jp", role=Role.READ).user
    client.force_login(reader)
    page = client.get(f"/staff/consultations/{case.slug}/analysis/")
    assert page.status_code == 200 and "分析を実行" not in page.content.decode()
    assert client.post(f"/staff/consultations/{case.slug}/analysis/start/").status_code == 403
    assert client.post(f"/staff/consultations/{case.slug}/analysis/campaign/c1/",
                       {"items": ["1"], "text": "x"}).status_code == 403
    other = make_staff(email="other@example.jp", department="welfare", role=Role.HANDLE).user
    client.force_login(other)
    assert client.get(f"/staff/consultations/{case.slug}/analysis/").status_code == 404
