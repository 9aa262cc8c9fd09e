"""Voter verification (本人確認): hiroba.accounts' stored verification, under the proposals' names.

A voter's verification is the resident's one verification (`accounts.ResidentVerification`),
recorded, linked and revoked by hiroba.accounts' services; the names below stay for callers.
"""

from __future__ import annotations

from hiroba.accounts.identity import identity_key
from hiroba.accounts.services import resident_verification_revoke as voter_verification_revoke
from hiroba.accounts.services import resident_verify as voter_verify

__all__ = ["identity_key", "voter_verify", "voter_verification_revoke"]
