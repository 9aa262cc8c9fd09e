"""Background work of the records module: the PDF copy of an Office file in a segment transfer."""

from __future__ import annotations

from django_tasks import task

from hiroba.records.models import TransferFile


@task()
def render_transfer_pdf(file_id: int) -> None:
    """Draw one transfer file's PDF copy (`transfers.rendering_make`; a second run changes nothing)."""
    from hiroba.records import transfers

    file = TransferFile.objects.select_related("request").filter(pk=file_id).first()
    if file is not None:
        transfers.rendering_make(file)
