"""The public pages around the period: where and until when to send an opinion; a closed case
awaiting its results (not a 404); the published table's Japanese headings and the open-data
CSV's English field names."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from hiroba.consultations import services
from hiroba.consultations.models import Case, Channel
from tests.consultations.conftest import CONTACTS

pytestmark = pytest.mark.django_db


@pytest.fixture
def at_during(time_machine):
    from tests.consultations.conftest import DURING

    time_machine.move_to(DURING)


def test_the_draft_page_states_where_and_until_when_to_send_an_opinion(client, case, at_during):
    html = client.get(f"/consultations/{case.slug}/").content.decode()
    assert "意見の提出方法と提出先" in html
    assert CONTACTS["submit_address"] in html and CONTACTS["hand_in_place"] in html
    assert "受付時間：平日 8時30分～17時15分" in html
    assert "ファクス番号 03-0000-0000" in html
    assert f'<a href="mailto:{CONTACTS["email_address"]}">' in html
    end = '<time datetime="2025-02-10">令和7年2月10日 (2025年2月10日)</time>'
    assert f"{end}の消印有効" in html  # letters: the postmark rule
    assert f"{end} 23時59分までに受信したもの" in html  # fax and e-mail
    assert f"{end}まで（受付時間内）" in html  # in person


@pytest.mark.parametrize("channel, missing", [(Channel.POST, "郵送先"), (Channel.FAX, "ファクス番号"),
                                              (Channel.EMAIL, "送付先のメールアドレス"), (Channel.HAND, "持参の窓口")])
def test_a_case_taking_paper_cannot_open_without_saying_where_to_send_it(departments, channel, missing):
    case = services.case_create(actor="test", slug=f"no-{channel}", title="案", department=departments["digital"],
                                period_start=date(2025, 1, 5), period_end=date(2025, 2, 10),
                                channels=[channel, Channel.WEB])
    services.section_add(actor="test", case=case, heading="全体")
    with pytest.raises(services.ConsultationError, match=f"提出先が記載されていません（{missing}"):
        services.case_transition(actor="test", case=case, to=Case.State.OPEN)
    services.case_update_details(actor="test", case=case, **CONTACTS)
    assert services.case_transition(actor="test", case=case, to=Case.State.OPEN).state == Case.State.OPEN


@pytest.mark.parametrize("state", [Case.State.TALLYING, Case.State.ANSWERING, Case.State.APPROVING])
def test_a_closed_case_awaits_its_results_with_the_expected_date_and_its_draft_readable(client, make_case, state,
                                                                                         at_during):
    case = make_case(state=state, results_due_on=date(2025, 3, 31))
    response = client.get(f"/consultations/{case.slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "受付を終了しました。結果は公表までお待ちください。" in html
    assert '結果の公表予定日：<time datetime="2025-03-31">令和7年3月31日 (2025年3月31日)</time>' in html
    assert "重点方針と取組みの本文" in html  # the draft is still there to read
    assert "この箇所に意見を出す" not in html and "意見の提出方法と提出先" not in html
    listing = client.get("/consultations/").content.decode()
    assert "受付を終了した案件（結果の公表待ち）" in listing and f"/consultations/{case.slug}/" in listing
    assert client.get(f"/consultations/{case.slug}/results/").status_code == 404


def test_a_closed_case_without_a_date_says_it_will_be_announced(client, make_case, at_during):
    case = make_case(state=Case.State.TALLYING)
    assert "結果の公表予定日は、決まり次第お知らせします。" in client.get(f"/consultations/{case.slug}/").content.decode()


def test_a_case_in_preparation_is_still_not_public(client, make_case):
    case = make_case(state=Case.State.PREPARING)
    assert client.get(f"/consultations/{case.slug}/").status_code == 404


def test_the_published_csv_has_the_wards_headings_and_the_open_data_csv_the_field_names(client, approved_case,
                                                                                        clerk):
    services.case_publish(actor=clerk, case=approved_case)
    base = f"/consultations/{approved_case.slug}"

    def table(url):
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline=""))), response

    ward, response = table(f"{base}/results.csv")
    assert ward[0] == ["No.", "該当箇所", "意見内容", "区の考え方"]
    assert response["Content-Disposition"] == f'attachment; filename="{approved_case.slug}-results.csv"'
    open_data, response = table(f"{base}/results.opendata-csv")
    assert open_data[0] == ["no", "section", "opinion", "response"] and open_data[1:] == ward[1:]
    assert response["Content-Disposition"] == f'attachment; filename="{approved_case.slug}-results-opendata.csv"'
    assert ward[1][1] == "全体"
    page = client.get(f"{base}/results/").content.decode()
    assert 'href="/static/consultations/results.css"' in page or "consultations/results." in page
    assert '<col class="results-table__section">' in page
    assert "オープンデータ用CSV形式（英字の項目名）" in page
