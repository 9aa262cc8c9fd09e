"""The opinion analysis of a case, issue 12 points 15 and 16: submission signals come from
submissions (not items), ignore unknown times, show 和暦 times and say each thing once; an item
without a suggested answer says why."""

from __future__ import annotations

import pytest

from hiroba.consultations import demo, importer, services
from hiroba.consultations import opinion_analysis as analysis
from hiroba.consultations.models import AnalysisRun, Case, Submission
from tests.consultations.conftest import DURING

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("immediate_tasks")]


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def go(case, actor) -> AnalysisRun:
        with django_capture_on_commit_callbacks(execute=True):
            requested = analysis.analysis_request(actor=actor, case=case)
        requested.refresh_from_db()
        assert requested.state == AnalysisRun.State.DONE, requested.error
        return requested

    return go


@pytest.fixture
def seed(departments) -> Case:
    """The seed consultation imported as a past case: no times in the file."""
    return importer.import_parsed(importer.parse(demo.fixture_path()), slug="seed", actor="test",
                                  department=departments["digital"])


def cut(clerk, submission, parts: int) -> None:
    """Cut a submission's text into ``parts`` items, as a clerk does with a long letter."""
    size = len(submission.text) // parts
    for k in range(parts):
        end = len(submission.text) if k == parts - 1 else (k + 1) * size
        services.item_create(actor=clerk, submission=submission, span=(k * size, end))


def page(client, case) -> str:
    response = client.get(f"/staff/consultations/{case.slug}/analysis/")
    assert response.status_code == 200, response.content.decode()[-3000:]
    return response.content.decode()


def test_imported_submissions_without_times_make_no_burst(seed, make_staff, client, run):
    # the importer gave all twelve the closing instant (2025-01-20T23:59:59.999999+09:00)
    assert {s.received_at for s in seed.submissions.all()} == {seed.closes_at}
    clerk = make_staff(email="analyst@example.jp").user
    signals = run(seed, clerk).report["signals"]
    assert signals["bursts"] == []
    assert signals["n_submissions"] == 12 and signals["without_received_at"] == 12
    client.force_login(clerk)
    html = page(client, seed)
    assert "提出が集中" not in html and "同じ秒" not in html
    assert "受付日時が分からない提出（受付日時のない移行データなど）12 件は、提出の集中の確認に含めていません。" in html
    assert "T23:59:59" not in html


def test_a_time_the_import_file_gave_is_kept(seed):
    placeholder = seed.submissions.first()
    assert placeholder.external_key and analysis.usable_received_at(placeholder, seed) is None
    given = Submission(external_key="import:x", received_at=DURING)  # the file said when
    assert analysis.usable_received_at(given, seed) == DURING
    web = Submission(received_at=seed.closes_at)  # a resident's own submission at the last instant
    assert analysis.usable_received_at(web, seed) == seed.closes_at


def test_items_cut_from_one_letter_count_as_one_submission(make_case, submit, make_staff, run):
    case = make_case()
    clerk = make_staff(email="analyst@example.jp").user
    letters = [submit(case, f"第{n}の手紙です。" + "図書館の開館時間を延長してください。" * 4, name=f"区民{n}",
                      address="千代田区九段南1-2-1", at=DURING.replace(day=10 + n)) for n in (1, 2)]
    Case.objects.filter(pk=case.pk).update(state=Case.State.ANSWERING)
    for letter in letters:
        cut(clerk, letter, 4)
    # two letters from one address, eight items: below the threshold of three submissions
    signals = run(case, clerk).report["signals"]
    assert signals["shared_identities"] == [] and signals["n_submissions"] == 2
    third = submit(case, "第3の手紙です。公園のトイレを改修してください。" * 2, name="区民3", address="千代田区九段南1-2-1",
                   at=DURING.replace(day=13))
    cut(clerk, third, 2)
    [shared] = run(case, clerk).report["signals"]["shared_identities"]
    assert shared["fields"] == ["address"] and shared["count"] == 3
    assert shared["submissions"] == [s.receipt_number for s in [*letters, third]] and len(shared["ids"]) == 10


def test_the_signals_show_wareki_times_and_each_finding_once(make_case, submit, make_staff, client, run):
    case = make_case()
    subs = [submit(case, f"図書館の開館時間を延長してください（{n}）。", name="山田花子", email="hanako@example.jp",
                   address="千代田区九段南1-2-1") for n in range(12)]  # all at 2025-01-10 12:00:00 JST
    clerk = make_staff(email="analyst@example.jp").user  # a member from the (frozen) day on
    Case.objects.filter(pk=case.pk).update(state=Case.State.ANSWERING)
    for sub in subs:
        services.item_create(actor=clerk, submission=sub, span=(0, len(sub.text)))
    run(case, clerk)
    client.force_login(clerk)
    html = page(client, case)
    section = html[html.index('id="signals-title"'):]
    assert section.count("<li>") == 2  # one burst, one shared identity
    assert "令和7年1月10日 (2025年1月10日) 12:00:00 の同じ秒に 12 件の提出があります。" in section
    assert "同じ氏名・メールアドレス・住所での提出が 12 件あります。" in section
    assert "2025-01-10T" not in html and "+09:00" not in html
    assert subs[0].receipt_number in section


def test_an_item_without_suggestions_says_why(seed, make_case, submit, make_staff, client, run):
    Case.objects.filter(pk=seed.pk).update(state=Case.State.PUBLISHED)
    case = make_case(slug="parks")
    unrelated = submit(case, "神田の児童遊園のベンチが古くなっています。早めに交換してください。")
    related = submit(case, "生成AIの活用は止めるべきです。生成AIには再現性がなく、業務の道具として不完全でリスクが大きい。")
    clerk = make_staff(email="analyst@example.jp").user
    Case.objects.filter(pk=case.pk).update(state=Case.State.ANSWERING)
    for sub in (unrelated, related):
        services.item_create(actor=clerk, submission=sub, span=(0, len(sub.text)))
    run(case, clerk)
    client.force_login(clerk)
    html = client.get(f"/staff/consultations/{case.slug}/items/1/").content.decode()
    assert "過去の回答からの候補はありません。最も近い過去の回答（過去の意見 seed#" in html
    assert "候補として示す基準 0.07 に届きません。" in html
    html = client.get(f"/staff/consultations/{case.slug}/items/2/").content.decode()
    assert "過去の回答からの候補" in html and "候補1を回答欄に入れる" in html and "seed#8" in html


def test_an_item_says_when_there_is_no_past_answer_to_compare(answering_case, client, run):
    case, clerk = answering_case
    run(case, clerk)
    client.force_login(clerk)
    html = client.get(f"/staff/consultations/{case.slug}/items/6/").content.decode()
    assert "過去の回答からの候補はありません。比べられる過去の回答（公表済みの他の案件の区の考え方）がありません。" in html
    # the campaign page says it for its representative too
    html = client.get(f"/staff/consultations/{case.slug}/analysis/campaign/c1/").content.decode()
    assert "過去の回答からの候補はありません。比べられる過去の回答（公表済みの他の案件の区の考え方）がありません。" in html
