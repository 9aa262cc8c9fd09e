"""What is published is what was approved: the approval round covers the whole published table
(its digest), every write that would change a published row is refused once approval is
requested, and after publication the page and every download are served from the stored,
immutable record — whatever happens to the live rows. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from hiroba.consultations import exports, services
from hiroba.consultations.models import (
    Answer,
    ApprovalDecision,
    Case,
    Item,
    Mask,
    PublishedFile,
    PublishedResult,
)
from hiroba.core.models import AuditEntry
from tests.consultations.conftest import approve

pytestmark = pytest.mark.django_db


def items(case):
    return {i.number: i for i in case.items.select_related("answer")}


def phone_mask(case) -> Mask:
    return Mask.objects.get(item__case=case, item__number=1, kind="phone")


def attempts(case, clerk):
    """Every kind of write that would change a published row, through the services."""
    by_no = items(case)
    return {
        "mask_decide": lambda: services.mask_decide(actor=clerk, mask=phone_mask(case), decision=Mask.Decision.KEEP),
        "mask_add": lambda: services.mask_add(actor=clerk, item=by_no[3], field="text", start=0, end=4),
        "summary": lambda: services.item_update(actor=clerk, item=by_no[2], summary="別の要旨"),
        "sections": lambda: services.item_update(actor=clerk, item=by_no[3], sections=[]),
        "answer_update": lambda: services.answer_update(actor=clerk, answer=by_no[2].answer, text="差し替えた回答"),
        "answer_write": lambda: services.answer_write(actor=clerk, items=[by_no[1]], text="新しい回答"),
        "answer_assign": lambda: services.answer_assign(actor=clerk, item=by_no[1], answer=by_no[2].answer),
        "exclude": lambda: services.item_exclude(actor=clerk, item=by_no[3], reason="対象外にする"),
        "withdraw": lambda: services.item_withdraw(actor=clerk, item=by_no[3], reason="取り下げる"),
        "item_create": lambda: services.item_create(actor=clerk, submission=by_no[1].submission, text="追加の意見"),
        "section_add": lambda: services.section_add(actor=clerk, case=case, heading="新しい見出し"),
    }


def test_the_approval_round_records_the_digest_of_the_exact_published_table(answered_case, clerk, approver):
    round_ = approve(answered_case, clerk, approver)
    pub = exports.build(answered_case)
    assert round_.digest == exports.digest(pub) and len(round_.digest) == 64
    assert round_.table == exports.approved_part(pub)
    rows = round_.table["rows"]
    assert [r["no"] for r in rows] == [1, 2, 3]
    assert "090-1234-5678" not in rows[0]["opinion"] and "＊＊＊" in rows[0]["opinion"]  # masks applied
    assert rows[1]["opinion"] == "オンライン申請の拡大を求める意見" and rows[1]["summarised"]  # the 要旨
    assert rows[1]["response"] == rows[2]["response"] == "オンライン申請の対象を順次広げてまいります。"
    assert round_.table["submitters"] == 3 and round_.table["item_count"] == 3
    entry = AuditEntry.objects.get(action="consultations.approval_request")
    assert entry.changes["digest"] == round_.digest


@pytest.mark.parametrize("name", ["mask_decide", "mask_add", "summary", "sections", "answer_update", "answer_write",
                                  "answer_assign", "exclude", "withdraw", "item_create", "section_add"])
def test_it_refuses_a_change_to_the_published_table_in_approval_and_after_publication(
        answered_case, clerk, approver, name):
    approve(answered_case, clerk, approver)
    with pytest.raises(services.TableLocked, match="決裁中のため"):
        attempts(answered_case, clerk)[name]()
    services.case_publish(actor=clerk, case=answered_case)
    with pytest.raises(services.TableLocked, match="公表済みのため.*訂正"):
        attempts(answered_case, clerk)[name]()
    assert exports.digest(exports.build(answered_case)) == PublishedResult.objects.get().digest


def test_a_return_unlocks_the_table_for_the_drafter(answered_case, clerk, approver):
    round_ = services.approval_request(actor=clerk, case=answered_case)
    with pytest.raises(services.TableLocked):
        attempts(answered_case, clerk)["summary"]()
    services.approval_decide(actor=approver, round_=round_, approve=False, comment="要旨を見直すこと")
    attempts(answered_case, clerk)["summary"]()
    assert Item.objects.get(case=answered_case, number=2).summary == "別の要旨"


def test_an_upheld_impersonation_report_waits_for_a_return_while_in_approval(answered_case, clerk):
    services.approval_request(actor=clerk, case=answered_case)
    submission = items(answered_case)[3].submission
    report = services.impersonation_report_create(case=answered_case, receipt_number=submission.receipt_number,
                                                  reporter_name="区民3", reporter_contact="03-0000-0000",
                                                  statement="出していません")
    with pytest.raises(services.TableLocked):
        services.impersonation_review(actor=clerk, report=report, uphold=True, note="本人に確認")
    assert not Item.objects.get(case=answered_case, number=3).withdrawn
    report.refresh_from_db()
    assert report.state == report.State.NEW  # nothing half-written


def test_publication_refuses_a_table_changed_behind_the_services_back(approved_case, clerk):
    # a write that bypassed the services (a repair in the admin, a bug): the digest catches it
    Answer.objects.filter(items__number=1, case=approved_case).update(text="承認後に書き換えた回答")
    with pytest.raises(services.ConsultationError, match=r"承認後に公表する内容が変わっています（No.1（区の考え方）"):
        services.case_publish(actor=clerk, case=approved_case)
    assert not PublishedResult.objects.exists()
    assert Case.objects.get(pk=approved_case.pk).state == Case.State.APPROVING


def _everything(client, tmp_path, case) -> dict[str, bytes]:
    """The public page (its <main>: the page's language switcher carries a fresh CSRF token),
    every download, and `hiroba consultation publish` in every format."""
    got: dict[str, bytes] = {}
    page = client.get(f"/consultations/{case.slug}/results/")
    assert page.status_code == 200
    got["page"] = page.content.split(b"<main", 1)[1].split(b"</main>", 1)[0]
    english = client.get(f"/consultations/{case.slug}/results/", HTTP_ACCEPT_LANGUAGE="en")
    got["page-en"] = english.content.split(b"<main", 1)[1].split(b"</main>", 1)[0]
    for fmt in exports.FORMATS:
        response = client.get(f"/consultations/{case.slug}/results.{fmt}")
        assert response.status_code == 200, fmt
        got[f"download-{fmt}"] = response.content
        out = tmp_path / f"cli.{fmt}"
        call_command("consultation", "publish", case.slug, "--format", fmt, "--out", str(out), stdout=StringIO())
        got[f"cli-{fmt}"] = out.read_bytes()
    return got


def test_changes_after_approval_and_after_publication_leave_the_page_and_every_download_byte_identical(
        client, approved_case, clerk, approver, tmp_path):
    case = approved_case
    approved_round = case.approval_rounds.get()
    # --- after approval: each attempt is refused, so what is published is what was approved ---
    for name in ("mask_decide", "summary", "answer_update"):
        with pytest.raises(services.TableLocked):
            attempts(case, clerk)[name]()
    services.case_publish(actor=clerk, case=case)
    result = PublishedResult.objects.get(case=case)
    assert result.digest == approved_round.digest and result.approval_round == approved_round
    before = _everything(client, tmp_path, case)
    assert b"090-1234-5678" not in before["download-csv"] and "＊＊＊".encode() in before["download-csv"]
    assert "オンライン申請の拡大を求める意見".encode() in before["page"]
    for fmt in exports.FORMATS:
        assert before[f"download-{fmt}"] == before[f"cli-{fmt}"] == bytes(result.files.get(format=fmt).content)
    # --- after publication: the services refuse …
    for name in ("mask_decide", "summary", "answer_update"):
        with pytest.raises(services.TableLocked):
            attempts(case, clerk)[name]()
    # … and even when the live rows are changed behind their back (un-masking the phone number,
    # rewriting the 要旨 and the answer), nothing public moves.
    Mask.objects.filter(pk=phone_mask(case).pk).update(decision=Mask.Decision.KEEP)
    Item.objects.filter(case=case, number=2).update(summary="書き換えた要旨")
    Answer.objects.filter(case=case, items__number=3).update(text="書き換えた回答")
    live = exports.render(case, "csv").decode("utf-8-sig")
    assert "090-1234-5678" in live and "書き換えた要旨" in live and "書き換えた回答" in live  # the rows did change
    after = _everything(client, tmp_path, case)
    assert after.keys() == before.keys()
    for key in before:
        assert after[key] == before[key], key


def test_every_stored_download_is_what_the_stored_data_renders(approved_case, clerk):
    services.case_publish(actor=clerk, case=approved_case)
    result = PublishedResult.objects.get()
    again = exports.render_all(exports.from_dict(result.data))  # deterministic, XLSX and PDF included
    for stored in result.files.all():
        assert bytes(stored.content) == again[stored.format], stored.format
    assert result.digest == exports.digest(exports.from_dict(result.data))


def _recreate_triggers() -> None:
    """The append-only triggers as migration 0005 creates them (a transactional test elsewhere
    may have lifted them for its flush); inside this test's transaction, so rolled back after."""
    module = importlib.import_module("hiroba.consultations.migrations.0005_published_results_and_approval_route")
    vendor = "POSTGRES" if connection.vendor == "postgresql" else "SQLITE"
    with connection.cursor() as cursor:
        for sql in [*getattr(module, f"{vendor}_DOWN"), *getattr(module, f"{vendor}_UP")]:
            cursor.execute(sql)


@pytest.mark.parametrize("table, column, value", [
    ("consultations_publishedresult", "canonical_json", "{}"),
    ("consultations_publishedfile", "format", "csv2"),
    ("consultations_approvaldecision", "comment", "書き換え"),
])
def test_the_database_refuses_to_update_or_delete_what_was_published(approved_case, clerk, table, column, value):
    services.case_publish(actor=clerk, case=approved_case)
    _recreate_triggers()
    for sql, params in ((f"UPDATE {table} SET {column} = %s", [value]), (f"DELETE FROM {table}", [])):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    assert PublishedResult.objects.count() == 1 and PublishedFile.objects.count() == len(exports.FORMATS)
    assert ApprovalDecision.objects.count() == 1


def test_the_models_refuse_to_change_or_delete_what_was_published(approved_case, clerk):
    services.case_publish(actor=clerk, case=approved_case)
    result = PublishedResult.objects.get()
    result.canonical_json = "{}"
    for obj in (result, result.files.first(), ApprovalDecision.objects.get()):
        with pytest.raises(PermissionError):
            obj.save()
        with pytest.raises(PermissionError):
            obj.delete()


def test_a_correction_needs_a_new_round_is_shown_dated_and_keeps_the_earlier_version(
        client, approved_case, clerk, approver):
    from datetime import date

    case = approved_case
    services.case_publish(actor=clerk, case=case, reported_on=date(2025, 3, 13))
    first_csv = client.get(f"/consultations/{case.slug}/results.csv").content
    services.approval_reopen(actor=clerk, case=case, reason="No.3 の回答の誤記")
    # while the 訂正 is prepared, the published version is still what the public sees
    assert client.get(f"/consultations/{case.slug}/results.csv").content == first_csv
    by_no = items(case)
    services.answer_write(actor=clerk, items=[by_no[3]], text="オンライン申請の対象を、令和7年度から順次広げてまいります。")
    with pytest.raises(services.ConsultationError, match="訂正の内容を入力"):
        services.approval_request(actor=clerk, case=case)
    round_ = approve(case, clerk, approver, correction_note="No.3 の区の考え方の記載を訂正しました。")
    assert round_.number == 2 and round_.is_correction
    services.case_publish(actor=clerk, case=case, reported_on=date(2025, 3, 27))
    versions = list(case.published_results.order_by("version"))
    assert [v.version for v in versions] == [1, 2] and versions[1].correction_note.startswith("No.3")
    page = client.get(f"/consultations/{case.slug}/results/").content.decode()
    assert "令和7年3月27日 (2025年3月27日) 訂正（第2版）：No.3 の区の考え方の記載を訂正しました。" in page
    assert "令和7年度から順次広げて" in page and f"/consultations/{case.slug}/results/v1/" in page
    old = client.get(f"/consultations/{case.slug}/results/v1/").content.decode()
    assert "訂正前の版（第1版）" in old and "令和7年度から" not in old
    assert client.get(f"/consultations/{case.slug}/results/v1.csv").content == first_csv
    assert client.get(f"/consultations/{case.slug}/results.csv").content != first_csv
    csv_v2 = client.get(f"/consultations/{case.slug}/results.json").content.decode()
    assert '"corrections"' in csv_v2 and "2025-03-27" in csv_v2
    publish = AuditEntry.objects.filter(action="consultations.case_publish").order_by("seq")
    assert [e.changes["version"] for e in publish] == [1, 2]


def test_a_correction_that_changes_nothing_is_refused(approved_case, clerk):
    services.case_publish(actor=clerk, case=approved_case)
    services.approval_reopen(actor=clerk, case=approved_case, reason="確認")
    with pytest.raises(services.ConsultationError, match="第1版から変わっていません"):
        services.approval_request(actor=clerk, case=approved_case, correction_note="訂正")


def test_an_imported_past_case_is_served_from_its_stored_record(client, departments, tmp_path):
    from tests.consultations.conftest import FIXTURE_DIR

    call_command("consultation", "import", str(FIXTURE_DIR / "consultation.json"), "--slug", "past", stdout=StringIO())
    case = Case.objects.get(slug="past")
    result = PublishedResult.objects.get(case=case)
    assert result.source == PublishedResult.Source.IMPORT and result.version == 1 and result.approval_round is None
    assert str(result.reported_on) == "2025-03-13"
    before = _everything(client, tmp_path, case)
    Answer.objects.filter(case=case).update(text="書き換え")
    Mask.objects.filter(item__case=case).update(decision=Mask.Decision.KEEP)
    assert _everything(client, tmp_path, case) == before


def test_an_unpublished_case_has_no_public_results(client, answered_case):
    assert client.get(f"/consultations/{answered_case.slug}/results/").status_code == 404
    assert client.get(f"/consultations/{answered_case.slug}/results.csv").status_code == 404
