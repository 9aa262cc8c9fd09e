"""The refusals of the proposals services (each message is shown to the person as is)."""

from __future__ import annotations

from hiroba.accounts.services import VerificationRefused
from hiroba.core.errors import ServiceError

__all__ = ["ProposalsError", "CallInvalid", "SubmissionRefused", "ScreeningRefused", "VoteRefused",
           "AlreadyProcessed", "VerificationRefused"]


class ProposalsError(ServiceError):
    """A refusal with a message for the person (translatable), a ``code`` and, where a form field
    is concerned, the ``field`` (views call ``err.add_to_form(form)``)."""


class CallInvalid(ProposalsError):
    pass


class SubmissionRefused(ProposalsError):
    pass


class ScreeningRefused(ProposalsError):
    pass


class VoteRefused(ProposalsError):
    pass


class AlreadyProcessed(VoteRefused):
    """The same request (idempotency key) was already carried out: nothing changed."""

    code = "replayed"

