"""The demand form: labels and widgets; its limits come from the declared content, demands.services holds the
rules."""
from typing import ClassVar

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.widgets import DateInput

from market.demands.services import DEMANDS
from market.formtools import MoneyField
from market.listings.forms import ListingForm, MultiCheckboxField


class DemandEditForm(ListingForm):
    """Create or edit a demand."""

    listing_type = DEMANDS
    blank_choices: ClassVar[dict] = {"wanted_trl_min": _l("不限")}

    title = StringField(_l("需求名称"))
    description = TextAreaField(_l("需求描述"))
    budget_min_fen = MoneyField(_l("预算下限"))
    budget_max_fen = MoneyField(_l("预算上限"))
    wanted_trl_min = SelectField(_l("期望最低技术就绪度"))
    modes = MultiCheckboxField(_l("可接受的合作方式"))
    deadline = StringField(_l("截止日期"), widget=DateInput())
