"""URLs for bench/intake.py only, kept under bench/ so they never ship in the package: hiroba's
own URLs plus a bare insert view, so the benchmark compares the full submission path with a plain INSERT on the same server and database.
Never listed in hiroba.urls; the benchmark's settings module sets ROOT_URLCONF to this."""

from __future__ import annotations

import secrets
import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from hiroba.consultations.models import Case, Channel, Submission
from hiroba.urls import urlpatterns as hiroba_urlpatterns


@csrf_exempt
@require_POST
def bare_insert(request: HttpRequest, slug: str) -> HttpResponse:
    """The same row, none of the checks: no CSRF, validation, numbering or audit."""
    case = get_object_or_404(Case, slug=slug)
    seq = secrets.randbelow(2_000_000_000) + 100_000
    submission = Submission.objects.create(
        case=case, receipt_seq=seq, receipt_number=f"BARE-{seq}", idempotency_key=uuid.uuid4().hex,
        channel=Channel.WEB, received_at=timezone.now(), name=request.POST.get("name", ""),
        address=request.POST.get("address", ""), category=request.POST.get("category", ""),
        text=request.POST.get("text", "") or "-",
    )
    return HttpResponse(submission.receipt_number, status=201, content_type="text/plain")


urlpatterns = [path("bench/bare/<slug:slug>/", bare_insert), *hiroba_urlpatterns]
