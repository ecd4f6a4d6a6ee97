"""The declared input of a decision on a recorded fact (the reason a dispute or refusal gives) and the size limit of the
evidence PDF a fact carries."""
from market.declared import DeclaredInput, text
from market.uploads import MEGABYTE

MAX_DECISION_REASON_CHARS = 1000
EVIDENCE_PDF_MAX_BYTES = 10 * MEGABYTE
"""The largest evidence PDF (bank receipt or invoice) a payment may carry."""


class DecisionInput(DeclaredInput):
    """A decision on a recorded fact (confirm, dispute, withdraw, refuse); disputes and refusals need a reason."""

    reason: text(MAX_DECISION_REASON_CHARS, description="理由；提出异议或驳回时必填。")
