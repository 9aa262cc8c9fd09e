"""Opinion analysis in the consultation workflow: run it, read it, act on it.

The analysis itself is `hiroba.analysis` (pure Python, deterministic, no Django). This package
wraps it for a case, in three modules:

* `adapter` — the case's records as the analysis's input (items → opinions, sections, the
  answered items of other published cases as past answers; unknown submission times);
* `services` — every write: request and execute a run (a background task, `tasks.analyze_case`,
  with its progress on the `AnalysisRun` row), answer a campaign or group at once, publish a
  campaign as one row (「同一の意見 n 件」, `Item.represented_by`), mask proposals from the
  report's personal-information spans;
* `queries` — every read: the latest runs, campaigns and groups with their evidence, what a run
  says about one item, the submission signals as the screen shows them.

The names below are the package's public API (`hiroba.consultations.analysis` re-exports them
for older callers).
"""

from hiroba.consultations.opinion_analysis.adapter import analysis_items, input_digest, past_items, usable_received_at
from hiroba.consultations.opinion_analysis.queries import (
    KINDS,
    STAGE_LABELS,
    Cluster,
    ItemFindings,
    Member,
    Signals,
    Suggestions,
    cluster,
    clusters,
    is_outdated,
    item_findings,
    latest_finished_run,
    latest_run,
    signals,
    suggestions_for,
    suggestions_of,
)
from hiroba.consultations.opinion_analysis.services import (
    ABANDONED_AFTER,
    MASK_NOTE,
    PROGRESS_EVERY_SECONDS,
    AnalysisError,
    analysis_execute,
    analysis_request,
    answer_many,
    masks_from_run,
    one_row_undo,
)

__all__ = [
    "ABANDONED_AFTER",
    "KINDS",
    "MASK_NOTE",
    "PROGRESS_EVERY_SECONDS",
    "STAGE_LABELS",
    "AnalysisError",
    "Cluster",
    "ItemFindings",
    "Member",
    "Signals",
    "Suggestions",
    "analysis_execute",
    "analysis_items",
    "analysis_request",
    "answer_many",
    "cluster",
    "clusters",
    "input_digest",
    "is_outdated",
    "item_findings",
    "latest_finished_run",
    "latest_run",
    "masks_from_run",
    "one_row_undo",
    "past_items",
    "signals",
    "suggestions_for",
    "suggestions_of",
    "usable_received_at",
]
