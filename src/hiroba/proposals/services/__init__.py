"""Every write of the proposals app: calls, proposals, screening, voting, results, follow-up.

One function per use case, keyword-only, atomic. Staff writes are audited; a resident's vote is
deliberately *not* written to the audit log (the chain is a global lock, and an entry per vote
would put a time next to each voter's choices). Services check the rules of the contest (phase,
limits, eligibility) and raise `ProposalsError` subclasses whose message is shown to the person
as is; the views check who may call them.

`now` parameters are the clock: views never pass one; the demo and tests do.

One module per noun — `calls`, `submission`, `moderation`, `screening`, `verification`, `voting`,
`results`, `followup` (refusals in `errors`, shared private helpers in `_common`). Callers import
from this package (`from hiroba.proposals import services`), which re-exports every public name;
a test that patches a function must patch it in the module that looks it up.
"""

from hiroba.proposals.services.calls import CALL_FIELDS, DEFAULT_RUBRIC, CriterionSpec, call_create, call_update
from hiroba.proposals.services.errors import (
    AlreadyProcessed,
    CallInvalid,
    ProposalsError,
    ScreeningRefused,
    SubmissionRefused,
    VerificationRefused,
    VoteRefused,
)
from hiroba.proposals.services.followup import (
    FOLLOWUP_FIELDS,
    followup_update,
    milestone_add,
    milestone_complete,
    proposal_adopt,
)
from hiroba.proposals.services.moderation import proposal_hide, proposal_unhide
from hiroba.proposals.services.results import anonymised_ballots, results_publish, tally
from hiroba.proposals.services.screening import (
    proposal_decide,
    review_declare_conflict,
    review_submit,
    reviewer_add,
    reviews_assign,
)
from hiroba.proposals.services.submission import (
    TEXT_FIELDS,
    proposal_save,
    proposal_submit,
    proposal_submit_on_behalf,
)
from hiroba.proposals.services.verification import identity_key, voter_verification_revoke, voter_verify
from hiroba.proposals.services.voting import (
    Eligibility,
    ballot_replace,
    ballot_token,
    my_choices,
    paper_ballot_enter,
    vote_cast,
    vote_withdraw,
    voter_eligibility,
)

__all__ = [
    # errors
    "ProposalsError", "CallInvalid", "SubmissionRefused", "ScreeningRefused", "VoteRefused", "AlreadyProcessed",
    "VerificationRefused",
    # calls
    "DEFAULT_RUBRIC", "CriterionSpec", "CALL_FIELDS", "call_create", "call_update",
    # submission, moderation
    "TEXT_FIELDS", "proposal_save", "proposal_submit", "proposal_submit_on_behalf", "proposal_hide",
    "proposal_unhide",
    # screening
    "reviewer_add", "reviews_assign", "review_declare_conflict", "review_submit", "proposal_decide",
    # verification, voting
    "identity_key", "voter_verify", "voter_verification_revoke", "Eligibility", "voter_eligibility",
    "ballot_token", "ballot_replace", "vote_cast", "vote_withdraw", "my_choices", "paper_ballot_enter",
    # results, follow-up
    "tally", "anonymised_ballots", "results_publish", "proposal_adopt", "FOLLOWUP_FIELDS", "followup_update",
    "milestone_add", "milestone_complete",
]
