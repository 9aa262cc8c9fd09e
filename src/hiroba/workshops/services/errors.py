"""Refusals raised by the workshop services."""

from __future__ import annotations

from typing import Any

from hiroba.core.errors import ServiceError


class WorkshopError(ServiceError):
    """A refusal with a translatable message (Japanese first); nothing was changed."""


class DuplicateApplication(WorkshopError):
    """The student has applied already. Public pages must not say so (13.13): the guardian on record
    is told by mail (`duplicate_attempt_record`), whoever sent the form sees the usual answer."""

    def __init__(self, message: Any, existing_id: int) -> None:
        super().__init__(message, "duplicate")
        self.existing_id = existing_id
