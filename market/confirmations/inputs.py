"""The declared input of a decision on a recorded fact: the reason a dispute or refusal gives."""
from market.declared import DeclaredInput, text

MAX_DECISION_REASON_CHARS = 1000


class DecisionInput(DeclaredInput):
    """A decision on a recorded fact (confirm, dispute, withdraw, refuse); disputes and refusals need a reason."""

    reason: text(MAX_DECISION_REASON_CHARS, description="理由；提出异议或驳回时必填。")
