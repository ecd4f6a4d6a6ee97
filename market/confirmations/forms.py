"""The form of a decision on a recorded fact."""
from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField

from market.confirmations.inputs import DecisionInput
from market.formtools import DeclaredForm


class DecisionForm(DeclaredForm):
    """Confirm, dispute, withdraw or refuse a recorded fact, with the reason a dispute or refusal needs."""

    reason = TextAreaField(_l("理由"))

    def declared_input(self):
        """The decision input of the confirmations."""
        return DecisionInput
