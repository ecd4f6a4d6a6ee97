"""The achievement form: shape only; achievements.services holds the rules."""
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional

from market.formtools import MONEY_HINT, MarketForm, TermsField, WanMoneyField, max_length, options
from market.listings.forms import IpItemsField, MultiCheckboxField, OwnersField
from market.listings.vocabulary import PriceType, Stage, TransferMode, choices


class AchievementEditForm(MarketForm):
    """Create or edit an achievement."""

    title = StringField(_l("成果名称"), validators=[DataRequired(), max_length(200)])
    summary = TextAreaField(_l("成果简介"), validators=[DataRequired(), max_length(1000)])
    description_public = TextAreaField(_l("详细介绍（公开）"), validators=[Optional(), max_length(10000)])
    description_confidential = TextAreaField(_l("保密信息（仅对接后可见）"), validators=[Optional(), max_length(10000)])
    keywords = TermsField(_l("关键词"))
    field = SelectField(_l("所属领域"), validators=[DataRequired(message=_l("请选择所属领域。"))], validate_choice=False)
    trl = SelectField(_l("技术就绪度（TRL）"), choices=options((str(n), f"TRL {n}") for n in range(1, 10)),
                      validators=[DataRequired()])
    stage = SelectField(_l("成熟度阶段"), choices=options(choices(Stage)), validators=[DataRequired()])
    ip_items = IpItemsField(_l("知识产权"), validators=[Optional()])
    modes = MultiCheckboxField(_l("转化方式"), choices=options(choices(TransferMode)))
    price_type = SelectField(_l("价格类型"), choices=options(choices(PriceType)), default=PriceType.NEGOTIABLE.value)
    price_min_fen = WanMoneyField(_l("价格下限（万元）"), description=MONEY_HINT)
    price_max_fen = WanMoneyField(_l("价格上限（万元）"), description=MONEY_HINT)
    owners = OwnersField(_l("权利人及份额"), validators=[Optional()])
    inventors = TermsField(_l("完成人"))
    benefits = TextAreaField(_l("相比现有技术的优势"), validators=[Optional(), max_length(2000)])
    scenarios = TextAreaField(_l("应用场景"), validators=[Optional(), max_length(2000)])

    def to_service_data(self) -> dict:
        """The values the achievement service validates."""
        return {name: self._fields[name].data for name in (
            "title", "summary", "description_public", "description_confidential", "keywords", "field", "trl",
            "stage", "ip_items", "modes", "price_type", "price_min_fen", "price_max_fen", "owners", "inventors",
            "benefits", "scenarios")}

    def fill_from(self, achievement) -> None:
        """Show an existing achievement's values."""
        for name in ("title", "summary", "description_public", "description_confidential", "keywords",
                     "ip_items", "price_type", "price_min_fen", "price_max_fen", "owners", "inventors",
                     "benefits", "scenarios", "stage"):
            self._fields[name].data = getattr(achievement, name)
        self.trl.data = str(achievement.trl)
        self.field.data = achievement.field.code if achievement.field else ""
        self.modes.data = [mode.value for mode in achievement.modes]
