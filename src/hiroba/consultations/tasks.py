"""Background work: the opinion analysis of a case (the receipt mail goes through core.notify)."""

from __future__ import annotations

from django_tasks import task

from hiroba.consultations.models import AnalysisRun


@task()
def analyze_case(run_id: int) -> None:
    """Run the opinion analysis of one `AnalysisRun` (queued by `analysis.analysis_request`)."""
    from hiroba.consultations import analysis  # numpy, Sudachi: only in the worker that runs it

    run = AnalysisRun.objects.filter(pk=run_id).first()
    if run is not None:  # its case may have been deleted since
        analysis.analysis_execute(run)
