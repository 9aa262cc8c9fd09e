"""Background work: the opinion analysis of a case (and receipt mails left queued by an older release)."""

from __future__ import annotations

from django_tasks import task

from hiroba.consultations.models import AnalysisRun, Submission


@task()
def send_receipt(submission_id: int, token: str = "", site_url: str = "") -> None:
    """A receipt mail queued by a release before the receipt went through `core.notify`
    (submissions now store it themselves, `services.receipt_mail`): put it in the outbox."""
    from hiroba.consultations import services

    submission = Submission.objects.select_related("case", "case__department").filter(pk=submission_id).first()
    if submission is not None and submission.email:
        services.receipt_mail(submission, token=token, site_url=site_url)


@task()
def analyze_case(run_id: int) -> None:
    """Run the opinion analysis of one `AnalysisRun` (queued by `analysis.analysis_request`)."""
    from hiroba.consultations import analysis  # numpy, Sudachi: only in the worker that runs it

    run = AnalysisRun.objects.filter(pk=run_id).first()
    if run is not None:  # its case may have been deleted since
        analysis.analysis_execute(run)
