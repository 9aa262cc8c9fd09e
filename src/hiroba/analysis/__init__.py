"""Deterministic analysis of public-comment opinions (pure Python, no Django).

The Django side calls :func:`analyze` (or the CLI :func:`hiroba.analysis.cli.main`)::

    from hiroba.analysis import Opinion, analyze, dumps
    report = analyze([Opinion(id="1", text="…")], sections=None, past=None,
                     progress=lambda stage, done, total: ...)

Same input, same output: no randomness without a fixed seed, no salted ``hash()``, every
list in the report has a defined order, and scores are rounded to 4 decimals.
"""

from hiroba.analysis.inputs import InputError, parse_opinions, read_opinions, read_past, read_sections
from hiroba.analysis.model import Opinion, PastItem, Progress, Section
from hiroba.analysis.normalize import fingerprint, normalize, normalize_with_offsets
from hiroba.analysis.pii import find_pii
from hiroba.analysis.report import Params, analyze, dumps

__all__ = [
    "InputError",
    "Opinion",
    "Params",
    "PastItem",
    "Progress",
    "Section",
    "analyze",
    "dumps",
    "find_pii",
    "fingerprint",
    "normalize",
    "normalize_with_offsets",
    "parse_opinions",
    "read_opinions",
    "read_past",
    "read_sections",
]
