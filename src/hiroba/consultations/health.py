"""The consultations' gauge on /metrics (declared as ``health_gauges`` on the AppConfig, read by core.health)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from hiroba.consultations.models import Submission


def submissions_last_minute() -> int:
    """Opinions received (all cases) in the last 60 seconds."""
    return Submission.objects.filter(received_at__gte=timezone.now() - timedelta(minutes=1)).count()
