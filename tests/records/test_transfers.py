"""Segment transfer (インターネット系 ↔ LGWAN系): the content check by magic bytes, macros
stripped, active PDFs re-rendered, the supervisor's approval, downloads only after it, hashes
and audit entries."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from hiroba.accounts.models import Role
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.core.models import AuditEntry
from hiroba.records import audit_actions as actions
from hiroba.records import contentcheck, transfers
from hiroba.records.models import TransferFile, TransferRequest

pytestmark = pytest.mark.django_db

TO_LGWAN = TransferRequest.Direction.TO_LGWAN


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, format="PNG")
    return out.getvalue()


def clean_pdf() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 80), "white").save(out, format="PDF")
    return out.getvalue()


def js_pdf() -> bytes:
    objects = [b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
               b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"]
    body, offsets = b"%PDF-1.4\n", []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return body + b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref


CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
      'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
      'relationships+xml"/><Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
      '<Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.'
      'main+xml"/></Types>')
DOC_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.microsoft.com/office/2006/'
            'relationships/vbaProject" Target="vbaProject.bin"/></Relationships>')


def docx(*, macro: bool = True, extra: dict[str, str] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", CT if macro else CT.replace("ms-word.document.macroEnabled.main",
                                                                      "openxmlformats-officedocument."
                                                                      "wordprocessingml.document.main"))
        z.writestr("word/document.xml", "<w:document xmlns:w='urn:w'/>")
        if macro:
            z.writestr("word/_rels/document.xml.rels", DOC_RELS)
            z.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0 macro")
        for name, body in (extra or {}).items():
            z.writestr(name, body)
    return out.getvalue()


# --- the content check ---------------------------------------------------------------------

def test_clean_png_pdf_and_text_pass_unchanged():
    for data, kind in [(png(), "png"), (clean_pdf(), "pdf"), ("件名,金額\n会議,100\n".encode(), "text"),
                       ("区役所のお知らせ".encode("cp932"), "text")]:
        v = contentcheck.check(data)
        assert (v.detected, v.verdict, v.safe) == (kind, contentcheck.PASSED, data)


def test_the_type_comes_from_the_content_not_the_name():
    assert contentcheck.check(b"MZ\x90\x00" + b"\x00" * 60).verdict == contentcheck.REFUSED
    assert contentcheck.detect(b"MZ\x90\x00") == "exe"
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("a.txt", "x")
    for data in [zipped.getvalue(), b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, bytes(range(256))]:
        v = contentcheck.check(data)
        assert v.verdict == contentcheck.REFUSED and v.safe is None and v.reason


def test_docx_macros_are_stripped_and_the_package_fixed():
    v = contentcheck.check(docx())
    assert (v.detected, v.verdict) == ("docx", contentcheck.STRIPPED)
    z = zipfile.ZipFile(io.BytesIO(v.safe))
    assert "word/vbaProject.bin" not in z.namelist()
    types = z.read("[Content_Types].xml").decode()
    assert "macroEnabled" not in types and "vbaProject" not in types and "wordprocessingml.document.main" in types
    assert "vbaProject" not in z.read("word/_rels/document.xml.rels").decode()
    assert contentcheck.check(v.safe).verdict == contentcheck.PASSED
    assert contentcheck.check(docx(macro=False)).verdict == contentcheck.PASSED


def test_office_files_with_activex_or_external_templates_are_refused():
    v = contentcheck.check(docx(macro=False, extra={"word/activeX/activeX1.xml": "<ax/>"}))
    assert v.verdict == contentcheck.REFUSED and "ActiveX" in v.reason
    template = DOC_RELS.replace('Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
                                'Target="vbaProject.bin"', 'Type="http://x/attachedTemplate" '
                                'Target="http://evil.example/t.dotm" TargetMode="External"')
    assert contentcheck.check(docx(macro=False, extra={"word/_rels/settings.xml.rels": template})).verdict \
        == contentcheck.REFUSED


def test_a_pdf_with_javascript_is_rendered_to_images():
    data = js_pdf()
    assert contentcheck.pdf_active_content(data) == ["JS", "JavaScript"]
    v = contentcheck.check(data)
    assert v.verdict == contentcheck.RENDERED and v.safe_name_suffix == ".pdf"
    assert v.safe is not None and v.safe.startswith(b"%PDF") and contentcheck.pdf_active_content(v.safe) == []
    # hidden behind a name escape or in a compressed stream, it is still found
    assert contentcheck.pdf_active_content(b"%PDF-1.4 /J#61vaScript") == ["JavaScript"]
    import zlib
    assert "Launch" in contentcheck.pdf_active_content(b"%PDF-1.4\nstream\n" + zlib.compress(b"/S /Launch")
                                                       + b"\nendstream")


def test_the_size_limit_comes_from_settings(settings):
    settings.RECORDS_TRANSFER_MAX_BYTES = 10
    assert contentcheck.check(png()).verdict == contentcheck.REFUSED


def test_types_not_in_the_allow_list_are_refused(settings):
    settings.RECORDS_TRANSFER_TYPES = ["pdf"]
    assert contentcheck.check(png()).verdict == contentcheck.REFUSED


# --- the request --------------------------------------------------------------------------

@pytest.fixture
def transfer(departments, care_clerk):
    return transfers.request_create(actor=care_clerk, department=departments["care"], direction=TO_LGWAN,
                                    reason="国の通知を庁内で共有", files=[
                                        ("通知.pdf", clean_pdf()), ("偽装.pdf", b"MZ\x90\x00" + b"\x00" * 60),
                                        ("集計.docm", docx()), ("案内.pdf", js_pdf())])


def test_every_file_is_kept_with_its_hashes_and_verdict(transfer):
    files = {f.name: f for f in transfer.files.all()}
    for f in files.values():
        assert f.sha256_before == hashlib.sha256(bytes(f.original)).hexdigest()
        assert f.sha256_after == (hashlib.sha256(bytes(f.safe)).hexdigest() if f.safe is not None else "")
    assert files["偽装.pdf"].verdict == "refused" and files["偽装.pdf"].detected_type == "exe"
    assert files["通知.pdf"].sha256_after == files["通知.pdf"].sha256_before
    assert files["集計.docm"].verdict == "stripped" and files["集計.docm"].safe_name == "集計.docx"
    assert files["案内.pdf"].verdict == "rendered" and files["案内.pdf"].sha256_after != files["案内.pdf"].sha256_before
    entry = AuditEntry.objects.get(action=actions.TRANSFER_REQUEST)
    assert {f["sha256_before"] for f in entry.changes["files"]} == {f.sha256_before for f in files.values()}
    with pytest.raises(TypeError):
        TransferFile.objects.filter(request=transfer).update(name="x")
    with pytest.raises(TypeError):
        files["通知.pdf"].save()


def test_the_requester_cannot_approve_and_nothing_is_handed_over_before_approval(transfer, care_clerk,
                                                                                 care_approver, make_staff):
    passed = transfer.files.get(name="通知.pdf")
    with pytest.raises(NotAllowed):
        transfers.safe_copy(actor=care_clerk, file=passed)
    with pytest.raises(NotAllowed):
        transfers.request_approve(actor=care_clerk, request=transfer)
    other = make_staff(email="other.boss@example.jp", department="digital", role=Role.APPROVE).user
    with pytest.raises(NotAllowed):
        transfers.request_approve(actor=other, request=transfer)
    transfers.request_approve(actor=care_approver, request=transfer, note="確認済")
    with pytest.raises(NotAllowed):
        transfers.safe_copy(actor=care_clerk, file=transfer.files.get(name="偽装.pdf"))
    name, data = transfers.safe_copy(actor=care_clerk, file=passed)
    assert name == "通知.pdf" and data == bytes(passed.safe)
    transfer.refresh_from_db()
    assert transfer.state == TransferRequest.State.DELIVERED and transfer.decided_by == care_approver
    download = AuditEntry.objects.get(action=actions.TRANSFER_DOWNLOAD)
    assert download.changes["sha256_after"] == passed.sha256_after
    assert AuditEntry.objects.filter(action=actions.TRANSFER_APPROVE).count() == 1


def test_reject_needs_a_reason_and_withdraw_is_the_requesters(transfer, care_clerk, care_approver):
    with pytest.raises(ServiceError):
        transfers.request_reject(actor=care_approver, request=transfer, reason=" ")
    with pytest.raises(NotAllowed):
        transfers.request_withdraw(actor=care_approver, request=transfer)
    transfers.request_withdraw(actor=care_clerk, request=transfer)
    assert TransferRequest.objects.get(pk=transfer.pk).state == TransferRequest.State.WITHDRAWN
    assert AuditEntry.objects.filter(action=actions.TRANSFER_WITHDRAW).count() == 1


def test_a_request_whose_files_are_all_refused_cannot_be_approved(departments, care_clerk, care_approver):
    req = transfers.request_create(actor=care_clerk, department=departments["care"], direction=TO_LGWAN,
                                   reason="x", files=[("a.exe", b"MZ" + b"\x00" * 10)])
    with pytest.raises(ServiceError):
        transfers.request_approve(actor=care_approver, request=req)


# --- the pages ----------------------------------------------------------------------------

def test_the_pages_upload_approve_and_download(client, departments, care_clerk, care_approver):
    client.force_login(care_clerk)
    assert client.get(reverse("records_staff:transfer_new")).status_code == 200
    response = client.post(reverse("records_staff:transfer_new"), {
        "department": departments["care"].pk, "direction": TO_LGWAN, "reason": "資料の持込み",
        "uploads": [SimpleUploadedFile("写真.png", png()), SimpleUploadedFile("setup.pdf", b"MZ" + b"\x00" * 40)]})
    assert response.status_code == 303
    req = TransferRequest.objects.get()
    body = client.get(response["Location"]).content.decode()
    assert "実行ファイルは受け渡しできません" in body and "承認する" not in body and "取り下げる" in body
    f = req.files.get(name="写真.png")
    url = reverse("records_staff:transfer_download", args=[req.pk, f.pk])
    assert client.get(url).status_code == 303  # refused before approval
    client.force_login(care_approver)
    assert "承認する" in client.get(reverse("records_staff:transfer", args=[req.pk])).content.decode()
    client.post(reverse("records_staff:transfer_action", args=[req.pk, "approve"]))
    client.force_login(care_clerk)
    download = client.get(url)
    assert download.status_code == 200 and download.content == png() and download["Content-Type"] == "image/png"
    assert "受け渡し済み" in client.get(reverse("records_staff:transfers")).content.decode()


def test_an_office_package_that_cannot_be_read_is_refused():
    broken = docx(macro=False, extra={"word/_rels/document.xml.rels": "<not xml"})
    v = contentcheck.check(broken)
    assert v.verdict == contentcheck.REFUSED and v.safe is None


def test_a_pdf_whose_streams_decompress_past_the_budget_is_not_trusted(settings):
    import zlib
    settings.RECORDS_TRANSFER_MAX_BYTES = 1000
    bomb = b"%PDF-1.4\nstream\n" + zlib.compress(b" " * 10_000) + b"\nendstream"
    assert contentcheck.pdf_active_content(bomb) == ["unchecked"]
