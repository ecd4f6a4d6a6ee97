"""Form pieces shared by the achievement and demand forms, and their base, whose limits come from the kind's content."""
import re
from typing import ClassVar

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired
from wtforms.widgets import CheckboxInput, ListWidget

from market.formtools import (
    DeclaredForm,
    MarketForm,
    TermsField,
    options,
)
from market.listings.editing import ListingType
from market.listings.services import ListingReturnInput
from market.listings.vocabulary import IpKind, ReturnReason, label
from market.taxonomy.wording import field_name


class MultiCheckboxField(SelectMultipleField):
    """Several choices shown as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("invalid_choice_message", _l("无效的选项。"))
        super().__init__(*args, **kwargs)


class ListingForm(DeclaredForm):
    """The edit form of a listing kind: fields named like the kind's declared content, whose limits it shows."""

    listing_type: ClassVar[ListingType]

    title_en = StringField(_l("英文名称（选填）"))
    summary_en = TextAreaField(_l("英文简介（选填）"))
    keywords = TermsField(_l("关键词"))
    field = SelectField(_l("所属领域"), validators=[DataRequired(message=_l("请选择所属领域。"))], validate_choice=False)

    def declared_input(self):
        """The kind's declared content."""
        return self.listing_type.content

    def choice_label(self, name: str, value) -> str:
        """TRL levels as "TRL 6", vocabulary values by their label."""
        return f"TRL {value}" if isinstance(value, int) else label(value)

    def to_service_data(self) -> dict:
        """The values the write service validates."""
        return {name: self._fields[name].data for name in self.listing_type.content.model_fields}

    def fill_from(self, listing) -> None:
        """Show an existing listing's values."""
        for name in self.listing_type.content.model_fields:
            value = getattr(listing, name)
            if name == "field":
                value = value.code if value else ""
            elif name == "modes":
                value = [mode.value for mode in value]
            elif isinstance(self._fields[name], SelectField) and (value is None or isinstance(value, int)):
                value = "" if value is None else str(value)
            self._fields[name].data = value


def field_choices(fields) -> list:
    """Field tree options with indentation showing depth."""
    return options([("", _l("请选择领域"))] + [(f.code, "\u3000" * f.depth + field_name(f)) for f in fields])


class IpItemsField(TextAreaField):
    """One IP item per line: "number kind", e.g. "ZL202110345678.2 发明专利"; `.data` is a list of dicts."""

    def process_formdata(self, valuelist):
        self.raw_text = valuelist[0] if valuelist else ""
        items = []
        by_label = {label(kind): kind.value for kind in IpKind} | {kind.value: kind.value for kind in IpKind}
        with force_locale("zh_CN"):
            by_label |= {label(kind): kind.value for kind in IpKind}
        for line in self.raw_text.splitlines():
            parts = [p for p in re.split(r"[\s,，]+", line.strip(), maxsplit=1) if p]
            if not parts:
                continue
            if len(parts) == 2:
                parts[1] = parts[1].strip()
            if len(parts) != 2 or parts[1] not in by_label:
                self.data = []
                raise ValueError(_l("每行填写：编号 类型（发明专利/实用新型/软件著作权/技术秘密）。"))
            items.append({"number": parts[0], "kind": by_label[parts[1]]})
        self.data = items

    def _value(self):
        if getattr(self, "raw_text", None):
            return self.raw_text
        return "\n".join(f"{item['number']} {label(IpKind(item['kind']))}" for item in (self.data or []))


class OwnersField(TextAreaField):
    """One owner per line: "name share%", e.g. "太原理工大学 60"; `.data` is a list of {name, share_bp}."""

    def process_formdata(self, valuelist):
        self.raw_text = valuelist[0] if valuelist else ""
        owners = []
        for line in self.raw_text.splitlines():
            line = line.strip()
            if not line:
                continue
            match = re.fullmatch(r"(.+?)[\s,，]+([0-9]{1,3}(?:\.[0-9]{1,2})?)\s*%?", line)
            if not match:
                self.data = []
                raise ValueError(_l("每行填写：权利人名称 份额（百分比），如“太原理工大学 60”。"))
            whole, _, cents = match.group(2).partition(".")
            owners.append({"name": match.group(1).strip(), "share_bp": int(whole) * 100 + int((cents + "00")[:2])})
        self.data = owners

    def _value(self):
        if getattr(self, "raw_text", None):
            return self.raw_text
        lines = []
        for owner in self.data or []:
            whole, rest = divmod(owner["share_bp"], 100)
            lines.append(f"{owner['name']} {whole}{f'.{rest:02d}' if rest else ''}")
        return "\n".join(lines)


class AttachmentUploadForm(MarketForm):
    """Upload a PDF attachment."""

    file = FileField(_l("PDF 附件（不超过 20 MB）"), validators=[DataRequired(message=_l("请选择文件。"))])
    is_confidential = BooleanField(_l("保密附件（仅本机构、平台和获授权的对接方可见）"))


class ConfidentialityForm(MarketForm):
    """A grantee accepts the confidentiality statement before seeing the confidential part."""

    accepted = BooleanField(_l("我已阅读并同意上述保密声明"))


class ListingReturnForm(DeclaredForm):
    """Return a listing with a structured reason (its choices and the comment's limit from the declared return)."""

    reason = SelectField(_l("退回原因"))
    comment = TextAreaField(_l("修改意见"), validators=[DataRequired(message=_l("请填写退回说明。"))])
    blank_choices: ClassVar[dict] = {"reason": _l("请选择")}
    input_says_missing = True

    def declared_input(self):
        """The return input the review service validates with."""
        return ListingReturnInput

    def choice_label(self, name: str, value) -> str:
        """A reason by its label."""
        return label(ReturnReason(value))


