"""The demand form: shape only; demands.services holds the rules."""
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional
from wtforms.widgets import DateInput

from market.formtools import MONEY_HINT, MarketForm, TermsField, WanMoneyField, max_length, options
from market.listings.forms import MultiCheckboxField
from market.listings.vocabulary import TransferMode, choices


class DemandEditForm(MarketForm):
    """Create or edit a demand."""

    title = StringField(_l("需求名称"), validators=[DataRequired(), max_length(200)])
    description = TextAreaField(_l("需求描述"), validators=[DataRequired(), max_length(10000)])
    keywords = TermsField(_l("关键词"))
    field = SelectField(_l("所属领域"), validators=[DataRequired(message=_l("请选择所属领域。"))], validate_choice=False)
    budget_min_fen = WanMoneyField(_l("预算下限（万元）"), description=MONEY_HINT)
    budget_max_fen = WanMoneyField(_l("预算上限（万元）"), description=MONEY_HINT)
    wanted_trl_min = SelectField(_l("期望最低技术就绪度"), choices=options([("", _l("不限"))] + [(str(n), f"TRL {n}") for n in range(1, 10)]),
                                 validators=[Optional()])
    modes = MultiCheckboxField(_l("可接受的合作方式"), choices=options(choices(TransferMode)))
    deadline = StringField(_l("截止日期"), widget=DateInput(), validators=[Optional(), max_length(20)])

    def to_service_data(self) -> dict:
        """The values the demand service validates."""
        return {name: self._fields[name].data for name in (
            "title", "description", "keywords", "field", "budget_min_fen", "budget_max_fen", "wanted_trl_min",
            "modes", "deadline")}

    def fill_from(self, demand) -> None:
        """Show an existing demand's values."""
        for name in ("title", "description", "keywords", "budget_min_fen", "budget_max_fen", "deadline"):
            self._fields[name].data = getattr(demand, name)
        self.wanted_trl_min.data = str(demand.wanted_trl_min) if demand.wanted_trl_min else ""
        self.field.data = demand.field.code if demand.field else ""
        self.modes.data = [mode.value for mode in demand.modes]
