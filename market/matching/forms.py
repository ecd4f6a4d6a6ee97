"""Matching forms: feedback on a pair, the broker board's filters. Shape only; matching.services holds the rules."""
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    TextAreaField,
)
from wtforms.validators import DataRequired, NumberRange, Optional

from market.formtools import DatabaseIdField, DeclaredForm, MarketForm, options
from market.inputs import MAX_PAGE
from market.matching.models import (
    REASONS_BY_VERDICT,
    FeedbackReason,
    Verdict,
    feedback_label,
)
from market.matching.services import BOARD_DAYS, BOARD_DEFAULT_DAYS, MatchFeedbackInput


def reason_groups() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(verdict code, verdict label, [(reason code, reason label)]) for a select grouped by verdict."""
    return [(verdict.value, feedback_label(verdict), [(reason.value, feedback_label(reason)) for reason in reasons])
            for verdict, reasons in REASONS_BY_VERDICT.items()]


class MatchFeedbackForm(DeclaredForm):
    """Mark a demand × achievement pair relevant or not, with a reason and an optional comment."""

    demand_id = DatabaseIdField(validators=[DataRequired()])
    achievement_id = DatabaseIdField(validators=[DataRequired()])
    verdict = RadioField(_l("判断"))
    reason = SelectField(_l("原因"))
    comment = TextAreaField(_l("补充说明（可选）"))
    next = HiddenField()
    input_says_missing = True

    def declared_input(self):
        """The feedback input the matching service validates with."""
        return MatchFeedbackInput

    def choice_label(self, name: str, value) -> str:
        """A verdict or a reason by its label."""
        return feedback_label(Verdict(value) if name == "verdict" else FeedbackReason(value))


class MatchBoardFilterForm(MarketForm):
    """The broker board's filters (a GET form)."""

    class Meta:
        csrf = False

    valley = SelectField(_l("谷区"), validate_choice=False, validators=[Optional()])
    field = SelectField(_l("领域"), validate_choice=False, validators=[Optional()])
    days = SelectField(_l("发布时间"), choices=options((str(d), _l("近 %(n)s 天", n=d)) for d in BOARD_DAYS),
                       default=str(BOARD_DEFAULT_DAYS))
    min_score = IntegerField(_l("最低匹配度"), validators=[Optional(), NumberRange(min=0, max=100)])
    dismissed = BooleanField(_l("包括被标为不相关的"))
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)])
