"""Segment transfer: an Office file that crosses gets a PDF copy too, drawn by LibreOffice in the
background worker from the macro-free copy, checked like any PDF, made once, audited with both
hashes and handed over only after approval; a failed conversion is kept with its reason."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import zipfile

import pytest
from django.urls import reverse

from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.core.models import AuditEntry
from hiroba.records import audit_actions as actions
from hiroba.records import contentcheck, transfers
from hiroba.records.models import TransferFile, TransferRendering, TransferRequest

pytestmark = pytest.mark.django_db

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
PKG = "http://schemas.openxmlformats.org/package/2006"
OFFICE_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"


def word(*paragraphs: str, macro: bool = False) -> bytes:
    """A .docx (or, with `macro`, a .docm with a VBA project) that Word and LibreOffice open."""
    main = ("application/vnd.ms-word.document.macroEnabled.main+xml" if macro else
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")
    types = (f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{PKG}/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
             f'<Override PartName="/word/document.xml" ContentType="{main}"/></Types>')
    rels = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}/relationships">'
            f'<Relationship Id="rId1" Type="{OFFICE_DOC}" Target="word/document.xml"/></Relationships>')
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("_rels/.rels", rels)
        z.writestr("word/document.xml", f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                                        f'<w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>')
        if macro:
            z.writestr("word/_rels/document.xml.rels", (
                f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}/relationships">'
                '<Relationship Id="rId9" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject"'
                ' Target="vbaProject.bin"/></Relationships>'))
            z.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0 macro")
    return out.getvalue()


@pytest.fixture(autouse=True)
def _worker(settings):
    """The background worker, as django-tasks' immediate backend: a task runs when it is queued."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def _request(departments, clerk, *files):
    return transfers.request_create(actor=clerk, department=departments["care"],
                                    direction=TransferRequest.Direction.TO_LGWAN, reason="庁内で共有",
                                    files=list(files))


def _pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "copy.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_an_office_file_gets_a_checked_pdf_copy_made_once_from_the_macro_free_copy(
        departments, care_clerk, care_approver, django_capture_on_commit_callbacks, tmp_path):
    with django_capture_on_commit_callbacks(execute=True):  # the worker's task runs after the commit
        req = _request(departments, care_clerk, ("計画.docm", word("令和8年度 事業計画", "区民の皆様へ", macro=True)),
                       ("写真.txt", "本文".encode()))
    f = req.files.get(name="計画.docm")
    assert f.verdict == TransferFile.Verdict.STRIPPED
    rendering = TransferRendering.objects.get(file=f)  # only the Office file has one
    assert TransferRendering.objects.count() == 1 and rendering.error == ""
    pdf = bytes(rendering.pdf)
    assert pdf.startswith(b"%PDF-") and rendering.sha256 == hashlib.sha256(pdf).hexdigest()
    assert contentcheck.check(pdf).verdict == contentcheck.PASSED  # no active content in it
    text = _pdf_text(pdf, tmp_path)
    assert "事業計画" in text and "区民の皆様へ" in text
    entry = AuditEntry.objects.get(action=actions.TRANSFER_RENDER)
    assert entry.changes["sha256_before"] == f.sha256_after and entry.changes["sha256_after"] == rendering.sha256

    assert transfers.rendering_make(f) == rendering  # a task run twice makes nothing new
    assert AuditEntry.objects.filter(action=actions.TRANSFER_RENDER).count() == 1
    with pytest.raises(TypeError):
        rendering.save()

    with pytest.raises(NotAllowed):  # not before approval
        transfers.safe_copy(actor=care_clerk, file=f, as_pdf=True)
    transfers.request_approve(actor=care_approver, request=req)
    name, data = transfers.safe_copy(actor=care_clerk, file=f, as_pdf=True)
    assert name == "計画.pdf" and data == pdf
    download = AuditEntry.objects.filter(action=actions.TRANSFER_DOWNLOAD).latest("seq")
    assert download.changes["sha256_after"] == rendering.sha256 and download.changes["name"] == "計画.pdf"
    name, data = transfers.safe_copy(actor=care_clerk, file=f)  # the macro-free .docx is still offered
    assert name == "計画.docx" and b"vbaProject" not in data


def test_a_failed_conversion_is_kept_with_its_reason_and_shown(client, settings, departments, care_clerk,
                                                               django_capture_on_commit_callbacks):
    settings.RECORDS_TRANSFER_SOFFICE = shutil.which("false")  # a program that converts nothing
    with django_capture_on_commit_callbacks(execute=True):
        req = _request(departments, care_clerk, ("計画.docx", word("本文")))
    rendering = TransferRendering.objects.get(file__request=req)
    assert rendering.pdf is None and rendering.sha256 == "" and rendering.error
    client.force_login(care_clerk)
    body = client.get(reverse("records_staff:transfer", args=[req.pk])).content.decode()
    assert "作成できませんでした" in body
    f = req.files.get()
    with pytest.raises(NotAllowed):
        transfers.safe_copy(actor=care_clerk, file=f, as_pdf=True)


def test_the_page_says_while_it_is_being_made_and_nothing_is_queued_when_turned_off(
        client, settings, departments, care_clerk, django_capture_on_commit_callbacks):
    settings.RECORDS_TRANSFER_SOFFICE = shutil.which("true")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        req = _request(departments, care_clerk, ("計画.docx", word("本文")))
    assert len(queued) == 1  # the worker's task, after the commit
    client.force_login(care_clerk)
    body = client.get(reverse("records_staff:transfer", args=[req.pk])).content.decode()
    assert "PDF版" in body and "作成中" in body

    settings.RECORDS_TRANSFER_SOFFICE = ""
    with django_capture_on_commit_callbacks(execute=False) as queued:
        req = _request(departments, care_clerk, ("計画.docx", word("本文")))
    assert queued == []
    body = client.get(reverse("records_staff:transfer", args=[req.pk])).content.decode()
    assert "作成中" not in body
    assert not TransferRendering.objects.exists()


def test_only_office_files_that_cross_get_one(departments, care_clerk):
    req = _request(departments, care_clerk, ("a.txt", "本文".encode()), ("a.exe", b"MZ" + b"\x00" * 10))
    for f in req.files.all():
        with pytest.raises(ServiceError) as refused:
            transfers.rendering_make(f)
        assert refused.value.code == "not_office"
