"""The opinion analysis in the consultation workflow (`opinion_analysis`): the background run and its
progress, campaigns and groups kept per item, answering a campaign at once, one published row
for identical opinions, mask proposals from the report's personal-information spans."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from hiroba.analysis import report
from hiroba.consultations import exports, services
from hiroba.consultations import opinion_analysis as analysis
from hiroba.consultations.models import AnalysisRun, AnalysisRunItem, Answer, Case, Item, Mask
from hiroba.core.models import AuditEntry
from tests.consultations.conftest import LETTER

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("immediate_tasks")]

PHONE_ITEM = 9


@pytest.fixture
def run_analysis(django_capture_on_commit_callbacks):
    def run(case, actor) -> AnalysisRun:
        with django_capture_on_commit_callbacks(execute=True):
            requested = analysis.analysis_request(actor=actor, case=case)
        requested.refresh_from_db()
        assert requested.state == AnalysisRun.State.DONE, requested.error
        return requested

    return run


def items(case, *numbers):
    return list(Item.objects.filter(case=case, number__in=numbers).order_by("number"))


def test_a_run_finds_the_campaign_and_the_group_and_keeps_them_per_item(answering_case, run_analysis):
    case, clerk = answering_case
    run = run_analysis(case, clerk)
    assert run.percent == 100 and run.item_count == 9 and run.requested_by == clerk
    assert run.started_at <= run.finished_at
    [campaign] = analysis.clusters(run, "campaign")
    assert campaign.key == "c1" and campaign.size == 5 and campaign.lead.number == 1
    assert [m.item.number for m in campaign.members] == [1, 2, 3, 4, 5]
    assert [m.exact for m in campaign.members] == [False, True, True, False, False]  # 1 leads
    assert campaign.evidence["exact_copies"] == 3 and campaign.evidence["shared_passages"]
    [group] = analysis.clusters(run, "group")
    assert [m.item.number for m in group.members] == [6, 7] and "図書館" in group.terms
    assert group.members[1].similarity is not None and "図書館" in group.members[1].shared_terms
    rows = {r.item.number: r for r in AnalysisRunItem.objects.filter(run=run).select_related("item")}
    assert sorted(rows) == list(range(1, 10))
    assert [n for n, r in rows.items() if r.campaign == "c1"] == [1, 2, 3, 4, 5]
    assert [n for n, r in rows.items() if r.group == "g1"] == [6, 7]
    assert AuditEntry.objects.filter(action="consultations.analysis_request", actor_id=clerk.pk).count() == 1
    assert AuditEntry.objects.filter(action="consultations.analysis_done").count() == 1


def test_a_rerun_on_unchanged_items_gives_the_same_report_and_digest(answering_case, run_analysis):
    case, clerk = answering_case
    first = run_analysis(case, clerk)
    again = run_analysis(case, clerk)
    assert again.pk != first.pk and again.report == first.report and again.input_digest == first.input_digest
    assert not analysis.is_outdated(again)
    assert AnalysisRunItem.objects.filter(run=first).count() == 0  # only the latest run's rows are kept
    services.item_exclude(actor=clerk, item=items(case, 8)[0], reason="案と関係がない")
    assert analysis.is_outdated(again)


def test_the_opinions_sections_and_past_answers_given_to_the_analysis(
    answering_case, make_case, submit, monkeypatch, run_analysis
):
    case, clerk = answering_case
    past = make_case(slug="past-plan", state=Case.State.OPEN)
    sub = submit(past, "窓口を縮小しないでください。連絡は03-9876-5432へ。")
    Case.objects.filter(pk=past.pk).update(state=Case.State.ANSWERING)
    past.refresh_from_db()
    services.answer_write(
        actor=clerk,
        items=[services.item_create(actor=clerk, submission=sub, span=(0, len(sub.text)))],
        text="窓口は維持します。",
    )
    unpublished = make_case(slug="not-yet", state=Case.State.ANSWERING)
    services.item_withdraw(actor=clerk, item=items(case, 3)[0], reason="なりすまし申告")
    seen = {}
    real = report.analyze

    def spy(opinions, **kwargs):
        seen.update(opinions=opinions, **kwargs)
        return real(opinions, **kwargs)

    monkeypatch.setattr("hiroba.analysis.report.analyze", spy)
    Case.objects.filter(pk=past.pk).update(state=Case.State.PUBLISHED)
    run_analysis(case, clerk)
    first = seen["opinions"][0]
    assert [o.id for o in seen["opinions"]] == ["1", "2", "4", "5", "6", "7", "8", "9"]  # 3 is withdrawn
    assert (first.text, first.name, first.email) == (LETTER, "区民1", "k1@example.jp")
    assert first.received_at.startswith("2025-01-10T")
    assert [s.title for s in seen["sections"]] == ["1 全体", "2 基本的な考え方", "3 重点方針と取組み"]
    [past_item] = seen["past"]  # only answered items of other, published cases
    assert past_item.id == "past-plan#1" and past_item.answer == "窓口は維持します。"
    assert "03-9876-5432" not in past_item.opinion  # as published: masked
    assert unpublished.items.count() == 0


def test_progress_is_saved_at_most_every_half_second_and_at_the_end_of_a_stage(
    answering_case, monkeypatch, django_capture_on_commit_callbacks
):
    case, clerk = answering_case
    saved = []
    real = report.analyze

    def stepping(opinions, *, progress, **kwargs):
        run = case.analysis_runs.get()
        for done in (1, 2, 10):
            progress("campaigns", done, 10)
            run.refresh_from_db()
            saved.append((run.state, run.stage, run.done, run.total))
        return real(opinions, progress=progress, **kwargs)

    monkeypatch.setattr("hiroba.analysis.report.analyze", stepping)
    with django_capture_on_commit_callbacks(execute=True):
        analysis.analysis_request(actor=clerk, case=case)
    assert saved == [("running", "campaigns", 1, 10), ("running", "campaigns", 1, 10), ("running", "campaigns", 10, 10)]


def test_a_second_run_is_refused_while_one_is_queued(answering_case, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    case, clerk = answering_case
    run = analysis.analysis_request(actor=clerk, case=case)
    assert run.state == AnalysisRun.State.QUEUED and run.percent == 0
    with pytest.raises(services.ConsultationError, match="実行中"):
        analysis.analysis_request(actor=clerk, case=case)


def test_a_failing_run_is_marked_failed_with_its_message(answering_case, settings, monkeypatch):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    case, clerk = answering_case
    run = analysis.analysis_request(actor=clerk, case=case)

    def boom(*args, **kwargs):
        raise ValueError("壊れた入力")

    monkeypatch.setattr("hiroba.analysis.report.analyze", boom)
    run = analysis.analysis_execute(run)
    assert run.state == AnalysisRun.State.FAILED and run.error == "ValueError: 壊れた入力"
    assert run.finished_at is not None and not AnalysisRunItem.objects.exists()
    assert AuditEntry.objects.filter(action="consultations.analysis_fail").exists()
    assert analysis.latest_finished_run(case) is None
    analysis.analysis_request(actor=clerk, case=case)  # a failed run does not block the next


def test_a_retried_task_does_not_run_the_analysis_again(answering_case, run_analysis, monkeypatch):
    case, clerk = answering_case
    run = run_analysis(case, clerk)
    monkeypatch.setattr("hiroba.analysis.report.analyze", lambda *a, **k: pytest.fail("ran twice"))
    assert analysis.analysis_execute(run).state == AnalysisRun.State.DONE


def test_an_empty_case_cannot_be_analysed(make_case, clerk):
    case = make_case(state=Case.State.ANSWERING)
    with pytest.raises(services.ConsultationError, match="分析する意見がありません"):
        analysis.analysis_request(actor=clerk, case=case)


def test_answering_a_campaign_at_once_gives_every_member_the_same_answer(answering_case, run_analysis):
    case, clerk = answering_case
    run_analysis(case, clerk)
    members = items(case, 1, 2, 3, 4, 5)
    answer = analysis.answer_many(actor=clerk, case=case, items=members, text="窓口は維持します。")
    assert sorted(answer.items.values_list("number", flat=True)) == [1, 2, 3, 4, 5]
    assert answer.versions.count() == 1
    entry = AuditEntry.objects.get(action="consultations.answer_many")
    assert entry.changes["items"] == [1, 2, 3, 4, 5] and entry.changes["one_row"] is False
    assert AuditEntry.objects.filter(action="consultations.answer_write").exists()
    # answering the same items again edits that answer: a new version, no orphan answer
    again = analysis.answer_many(actor=clerk, case=case, items=members, text="窓口は今後も維持します。")
    assert again.pk == answer.pk and again.version == 2 and Answer.objects.filter(case=case).count() == 1
    # leaving item 5 out: the four get a new answer, item 5 keeps the one it had
    four = analysis.answer_many(actor=clerk, case=case, items=members[:4], text="窓口を維持します。")
    assert four.pk != answer.pk and list(answer.items.values_list("number", flat=True)) == [5]


def test_an_answer_shared_with_items_outside_the_selection_is_not_rewritten(answering_case):
    case, clerk = answering_case
    shared = services.answer_write(actor=clerk, items=items(case, 1, 8), text="別の回答です。")
    answer = analysis.answer_many(actor=clerk, case=case, items=items(case, 1, 2), text="窓口は維持します。")
    assert answer.pk != shared.pk
    shared.refresh_from_db()
    assert shared.text == "別の回答です。" and list(shared.items.values_list("number", flat=True)) == [8]


def test_answers_cannot_be_given_at_once_while_locked(answering_case):
    case, clerk = answering_case
    Case.objects.filter(pk=case.pk).update(state=Case.State.APPROVING)
    with pytest.raises(services.AnswersLocked):
        analysis.answer_many(actor=clerk, case=case, items=items(case, 1, 2), text="窓口は維持します。", one_row=True)
    assert not Item.objects.filter(case=case).exclude(answer=None).exists()
    assert not Item.objects.filter(case=case).exclude(represented_by=None).exists()


def test_a_campaign_published_as_one_row_states_how_many_opinions_it_stands_for(answering_case, run_analysis):
    case, clerk = answering_case
    run_analysis(case, clerk)
    for number in range(6, 10):
        services.answer_write(actor=clerk, items=items(case, number), text=f"回答{number}")
    analysis.answer_many(
        actor=clerk, case=case, items=items(case, 1, 2, 3, 4, 5), text="窓口は維持します。", one_row=True
    )
    assert AuditEntry.objects.get(action="consultations.answer_many").changes["one_row"] is True
    pub = exports.build(case)
    # every opinion and submitter is still counted; the table has one row for the five
    assert (pub.item_count, pub.row_count, pub.submitters) == (9, 5, 9)
    assert [r.identical for r in pub.rows] == [5, 1, 1, 1, 1] and [r.no for r in pub.rows] == [1, 2, 3, 4, 5]
    rows = list(csv.reader(io.StringIO(exports.to_csv(pub).decode("utf-8-sig"))))
    assert rows[0] == ["No.", "該当箇所", "意見内容", "区の考え方", "同一の意見の件数"]
    assert rows[1][0] == "1" and rows[1][-1] == "5" and rows[2][-1] == "1" and len(rows) == 6
    open_data = list(csv.reader(io.StringIO(exports.to_opendata_csv(pub).decode("utf-8-sig"))))
    assert open_data[0] == ["no", "section", "opinion", "response", "identical_count"] and open_data[1:] == rows[1:]
    data = json.loads(exports.to_json(pub))
    assert data["consultation"]["items_total"] == 9 and data["consultation"]["rows_total"] == 5
    assert data["items"][0]["identical_count"] == 5 and "identical_count" not in data["items"][1]
    html = exports.to_html(pub).decode()
    assert "同一の意見 5 件" in html and "同一の意見をまとめて 5 行で掲載" in html
    sheet = load_workbook(io.BytesIO(exports.to_xlsx(pub)))["意見と区の考え方"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert ["No.", "該当箇所", "意見内容", "区の考え方", "同一の意見の件数"] in values
    assert any(v[0] == 1 and v[-1] == 5 for v in values)


def test_without_folded_rows_the_csv_keeps_the_fixture_columns(answering_case):
    case, clerk = answering_case
    analysis.answer_many(actor=clerk, case=case, items=items(case, 1, 2), text="窓口は維持します。")
    pub = exports.build(case)
    header = exports.to_opendata_csv(pub).decode("utf-8-sig").splitlines()[0]
    assert header == "no,section,opinion,response" and pub.row_count == pub.item_count == 9
    assert exports.to_csv(pub).decode("utf-8-sig").splitlines()[0] == "No.,該当箇所,意見内容,区の考え方"
    assert "identical_count" not in exports.to_json(pub).decode()


def test_a_row_never_hides_an_opinion_answered_differently(answering_case):
    case, clerk = answering_case
    analysis.answer_many(actor=clerk, case=case, items=items(case, 1, 2, 3), text="窓口は維持します。", one_row=True)
    assert exports.build(case).row_count == 7
    other = services.answer_write(actor=clerk, items=items(case, 9), text="別の回答")
    services.answer_assign(actor=clerk, item=items(case, 3)[0], answer=other)
    pub = exports.build(case)
    assert pub.row_count == 8 and pub.rows[0].identical == 2


def test_answering_again_without_one_row_and_undoing_it_restore_separate_rows(answering_case):
    case, clerk = answering_case
    analysis.answer_many(actor=clerk, case=case, items=items(case, 1, 2, 3), text="窓口は維持します。", one_row=True)
    analysis.answer_many(actor=clerk, case=case, items=items(case, 1, 2, 3), text="窓口は維持します。")
    assert exports.build(case).row_count == 9
    analysis.answer_many(actor=clerk, case=case, items=items(case, 1, 2, 3), text="窓口は維持します。", one_row=True)
    assert analysis.one_row_undo(actor=clerk, item=items(case, 1)[0]) == 2
    assert exports.build(case).row_count == 9
    assert AuditEntry.objects.get(action="consultations.one_row_undo").changes["items"] == [2, 3]


def test_one_row_needs_two_opinions(answering_case):
    case, clerk = answering_case
    with pytest.raises(services.ConsultationError, match="2件以上"):
        analysis.answer_many(actor=clerk, case=case, items=items(case, 1), text="回答", one_row=True)


def test_masks_come_from_the_reports_spans_at_their_offsets_once(answering_case, run_analysis):
    case, clerk = answering_case
    Mask.objects.filter(item__case=case).delete()  # item_create's own detection, to see the run's
    run = run_analysis(case, clerk)
    item = items(case, PHONE_ITEM)[0]
    [mask] = Mask.objects.filter(item=item)
    assert (item.text[mask.start : mask.end], mask.kind, mask.source, mask.decision) == (
        "03-1234-5678",
        "phone",
        Mask.Source.AUTO,
        Mask.Decision.MASK,
    )
    assert mask.note == analysis.MASK_NOTE and "03-1234-5678" not in services.masked_text(item)
    assert AuditEntry.objects.filter(action="consultations.masks_from_analysis").exists()
    assert analysis.masks_from_run(run) == 0  # nothing new the second time


def test_masks_from_a_run_flag_other_kinds_and_leave_staff_decisions_alone(answering_case, run_analysis):
    case, clerk = answering_case
    run = run_analysis(case, clerk)
    item = items(case, PHONE_ITEM)[0]
    mask = Mask.objects.get(item=item, kind="phone")
    services.mask_decide(actor=clerk, mask=mask, decision=Mask.Decision.KEEP, note="区の代表番号")
    name_at = item.text.index("スクール")
    run.report["pii"][str(PHONE_ITEM)].append({"start": name_at, "end": name_at + 4, "kind": "person_name"})
    run.report["pii"]["99"] = [{"start": 0, "end": 2, "kind": "phone"}]  # no such item: ignored
    assert analysis.masks_from_run(run) == 1
    mask.refresh_from_db()
    assert mask.decision == Mask.Decision.KEEP  # the staff decision stands
    flagged = Mask.objects.get(item=item, kind="person_name")
    assert (flagged.start, flagged.end, flagged.source, flagged.decision) == (
        name_at,
        name_at + 4,
        Mask.Source.FLAG,
        Mask.Decision.PENDING,
    )


def test_the_former_module_re_exports_the_package():
    from hiroba.consultations import analysis as former

    for name in analysis.__all__:
        assert getattr(former, name) is getattr(analysis, name), name
