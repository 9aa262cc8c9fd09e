"""Background work: the receipt mail (受付番号, and the confirmation link where required), and the
opinion analysis of a case."""

from __future__ import annotations

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django_tasks import task

from hiroba.consultations.models import AnalysisRun, Submission


@task()
def send_receipt(submission_id: int, token: str = "", site_url: str = "") -> None:
    """Mail the 受付番号 to the address the resident gave (queued after the commit)."""
    submission = Submission.objects.select_related("case").get(pk=submission_id)
    if not submission.email:
        return
    confirm_url = ""
    if token:
        confirm_url = site_url.rstrip("/") + reverse("consultations:confirm_email", args=[token])
    context = {"submission": submission, "case": submission.case, "confirm_url": confirm_url}
    send_mail(
        subject=f"【受付】{submission.case.title}（受付番号 {submission.receipt_number}）",
        message=render_to_string("consultations/mail/receipt.txt", context),
        from_email=None,
        recipient_list=[submission.email],
    )


@task()
def analyze_case(run_id: int) -> None:
    """Run the opinion analysis of one `AnalysisRun` (queued by `analysis.analysis_request`)."""
    from hiroba.consultations import analysis  # numpy, Sudachi: only in the worker that runs it

    run = AnalysisRun.objects.filter(pk=run_id).first()
    if run is not None:  # its case may have been deleted since
        analysis.analysis_execute(run)
