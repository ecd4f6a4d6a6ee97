"""The achievement form: labels and widgets; its limits come from the declared content, achievements.services holds
the rules."""
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from market.achievements.services import ACHIEVEMENTS
from market.formtools import MoneyField, TermsField
from market.listings.forms import IpItemsField, ListingForm, MultiCheckboxField, OwnersField
from market.listings.vocabulary import PriceType


class AchievementEditForm(ListingForm):
    """Create or edit an achievement."""

    listing_type = ACHIEVEMENTS

    title = StringField(_l("成果名称"))
    summary = TextAreaField(_l("成果简介"))
    description_public = TextAreaField(_l("详细介绍（公开）"))
    description_confidential = TextAreaField(_l("保密信息（仅对接后可见）"))
    trl = SelectField(_l("技术就绪度（TRL）"))
    stage = SelectField(_l("成熟度阶段"))
    ip_items = IpItemsField(_l("知识产权"), validators=[Optional()])
    modes = MultiCheckboxField(_l("转化方式"))
    price_type = SelectField(_l("价格类型"), default=PriceType.NEGOTIABLE.value)
    price_min_fen = MoneyField(_l("价格下限"))
    price_max_fen = MoneyField(_l("价格上限"))
    owners = OwnersField(_l("权利人及份额"), validators=[Optional()])
    inventors = TermsField(_l("完成人"))
    benefits = TextAreaField(_l("相比现有技术的优势"))
    scenarios = TextAreaField(_l("应用场景"))
