"""Forms of the import pages: shape only; imports.services holds the rules."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField
from wtforms.validators import DataRequired

from market.formtools import MarketForm


class AchievementImportForm(MarketForm):
    """Upload a sheet of achievements."""

    file = FileField(_l("成果表格（.xlsx 或 .csv，不超过 5 MB）"), validators=[FileRequired(message=_l("请选择文件。"))])
    submit_for_review = BooleanField(_l("导入后直接提交审核"))


class ImportReportForm(MarketForm):
    """Download the error report of a refused sheet (the page carries the problems back)."""

    report = HiddenField(validators=[DataRequired()])
