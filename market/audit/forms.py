"""The audit log's filter form (a GET form; the view sets the choices)."""
from datetime import datetime

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Optional

from market.audit.models import ACTOR_DISPLAY_MAX_LENGTH, REQUEST_ID_MAX_LENGTH
from market.formtools import DatabaseIdField, MarketForm, max_length

FILTER_NAMES = ("action", "object_type", "actor", "object_id", "since", "until", "request_id")


class DayField(DateField):
    """A calendar day typed as YYYY-MM-DD, refused with a Chinese message otherwise."""

    def process_formdata(self, valuelist):
        self.data = None
        text = (valuelist[0] if valuelist else "").strip()
        if text:
            try:
                self.data = datetime.strptime(text, "%Y-%m-%d").date()
            except ValueError:
                raise ValueError(str(_l("请按“年-月-日”填写日期，例如 2026-05-01。"))) from None


class AuditFilterForm(MarketForm):
    """Filters of the audit log."""

    class Meta:
        csrf = False

    action = SelectField(_l("操作"), validators=[Optional()])
    object_type = SelectField(_l("对象类型"), validators=[Optional()])
    actor = StringField(_l("操作人"), validators=[Optional(), max_length(ACTOR_DISPLAY_MAX_LENGTH)],
                        description=_l("姓名或用户编号"))
    object_id = DatabaseIdField(_l("对象编号"), validators=[Optional()])
    since = DayField(_l("起始日期"), validators=[Optional()])
    until = DayField(_l("结束日期"), validators=[Optional()])
    request_id = StringField(_l("请求编号"), validators=[Optional(), max_length(REQUEST_ID_MAX_LENGTH)])

    def valid_values(self) -> dict:
        """The filter values that passed validation (a bad one is dropped and its message shown, not an error page)."""
        self.validate()
        values = {}
        for name in FILTER_NAMES:
            field = self._fields[name]
            if field.errors or field.data in (None, ""):
                continue
            values[name] = field.data.strip() if isinstance(field.data, str) else field.data
        if values.get("since") and values.get("until") and values["since"] > values["until"]:
            self.until.errors = [*self.until.errors, str(_l("结束日期不能早于起始日期。"))]
            values.pop("until")
        return values
