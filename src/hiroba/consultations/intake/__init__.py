"""Every channel in without retyping: the consultation mailbox (電子メール, and ファクス delivered
as mail), scanned paper through Japanese OCR, and the exports of the ward's form service.

Each channel turns what arrives into an `Entry` of one intake queue, keeps what arrived as an
immutable `Original` (the .eml, the scan, the export) with its SHA-256, and ends in the same
service call as the staff intake form (`services.submission_receive`): the same 受付番号, audit
and idempotency. See docs/consultations.md for the clerk's view.
"""
