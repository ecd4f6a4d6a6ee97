"""Money forms: award filters and actions, start-up grants, rule-set uploads and the what-if calculator (shape only:
the writes take their required fields and limits from market.awards.inputs; the calculator forms also turn their
values into a POLICY.md scenario)."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import InputRequired, Optional

from market.awards.inputs import (
    VOUCHER_PDF_MAX_BYTES,
    PayoutInput,
    RecoveryInput,
    ReissueInput,
    ReversalInput,
    StartupGrantInput,
)
from market.declared import EmptyInput
from market.formtools import DeclaredForm, MarketForm, MoneyField, max_length, options
from market.inputs import parse_id
from market.money import BASIS_POINTS
from market.taxonomy.wording import valley_name
from market.uploads import size_text

PAYMENT_ROWS = 6
"""Payment lines the calculator offers."""

INTERMEDIARY_ROWS = 3
"""Intermediaries the calculator offers (the default rule set allows three per achievement)."""

INTERMEDIARY_NAME_MAX_LENGTH = 30
RECIPIENT_FILTER_MAX_LENGTH = 60

_PERCENT = re.compile(r"(?P<whole>[0-9]{1,3})(?:\.(?P<fraction>[0-9]{1,2}))?", re.ASCII)


class PercentField(StringField):
    """A percentage typed as 20 or 12.5 (a trailing % is accepted); `.data` is integer basis points or None."""

    def process_formdata(self, valuelist):
        self.raw_text = valuelist[0] if valuelist else ""
        text = unicodedata.normalize("NFKC", self.raw_text).strip().removesuffix("%").strip()
        self.data = None
        if not text:
            return
        match = _PERCENT.fullmatch(text)
        if match is None:
            raise ValueError(_l("请输入 0 到 100 之间的百分比，最多两位小数，如 20 或 12.5。"))
        value = int(match.group("whole")) * 100 + int((match.group("fraction") or "").ljust(2, "0"))
        if value > BASIS_POINTS:
            raise ValueError(_l("百分比不能超过 100。"))
        self.data = value

    def _value(self):
        if getattr(self, "raw_text", None):
            return self.raw_text
        if isinstance(self.data, int):
            whole, hundredths = divmod(self.data, 100)
            return f"{whole}.{hundredths:02d}".rstrip("0").rstrip(".")
        return ""


# --- admin: awards -------------------------------------------------------------------------------------------------


class AwardFilterForm(MarketForm):
    """Filters of the admin's award list (a GET form; choices are set by the view)."""

    class Meta:
        csrf = False

    status = SelectField(_l("状态"), validators=[Optional()])
    rule = SelectField(_l("规则"), validators=[Optional()])
    valley = SelectField(_l("谷区"), validators=[Optional()])
    year = SelectField(_l("年度"), validators=[Optional()])
    recipient = StringField(_l("领取人"), validators=[Optional(), max_length(RECIPIENT_FILTER_MAX_LENGTH)],
                            description=_l("单位名称、姓名或邮箱"))

    def valid_values(self) -> dict[str, str]:
        """The filter values that passed validation (a bad one is dropped, not an error page)."""
        self.validate()
        return {name: (self._fields[name].data or "").strip() for name in ("status", "rule", "valley", "year", "recipient")
                if not self._fields[name].errors}


class AwardActionForm(MarketForm):
    """Approve an award (CSRF and where to go back to)."""

    next = HiddenField()


class AwardPayoutForm(DeclaredForm):
    """Record the payout of an approved award: voucher reference, payout date and the optional voucher PDF."""

    input_says_missing = True
    voucher_reference = StringField(_l("付款凭证号"))
    paid_on = StringField(_l("发放日期"), render_kw={"type": "date"})
    voucher = FileField(_l("付款凭证（PDF，可选，不超过 %(size)s）", size=size_text(VOUCHER_PDF_MAX_BYTES)))
    next = HiddenField()

    def declared_input(self):
        """The payout input of the award services."""
        return PayoutInput


class AwardRecoveryForm(DeclaredForm):
    """Record the recovery of a reversed payout: the bank voucher reference and the day the money came back."""

    input_says_missing = True
    voucher_reference = StringField(_l("收款凭证号"))
    recovered_on = StringField(_l("追回日期"), render_kw={"type": "date"})
    next = HiddenField()

    def declared_input(self):
        """The recovery input of the award services."""
        return RecoveryInput


class AwardReverseForm(DeclaredForm):
    """Reverse an award with a written reason."""

    reason = StringField(_l("冲正原因"))
    next = HiddenField()

    def declared_input(self):
        """The reversal input of the award services."""
        return ReversalInput


class AwardReissueForm(DeclaredForm):
    """Issue the corrected amount of a reversed award, with the reason."""

    input_says_missing = True
    amount_fen = MoneyField(_l("更正金额"))
    reason = StringField(_l("更正原因"))
    next = HiddenField()

    def declared_input(self):
        """The re-issue input of the award services."""
        return ReissueInput


def _required_id(value) -> int:
    """A select's id value as int (ASCII digits only: int() would read "１" as 1); ValueError otherwise."""
    chosen = parse_id(value)
    if chosen is None:
        raise ValueError(value)
    return chosen


def _optional_id(value) -> int | None:
    """A select's id value as int; the empty "please choose" option as None."""
    if value in ("", None):
        return None
    return _required_id(value)


class AwardBulkApproveForm(MarketForm):
    """Approve the selected payable awards."""

    award_ids = SelectMultipleField(coerce=_required_id, validate_choice=False)
    next = HiddenField()


# --- admin: start-up grants and rule sets -------------------------------------------------------------------------


class StartupGrantForm(DeclaredForm):
    """Record a start-up (registered) capital grant for an enterprise resident in a valley (R4)."""

    organisation_id = SelectField(_l("入驻谷区的初创企业"), coerce=_optional_id)
    granted_on = DateField(_l("支持日期"), format="%Y-%m-%d")
    founders_paid_in_fen = MoneyField(_l("创始人自有资金实缴"))
    awarded_fen = MoneyField(_l("拟支持金额"))
    input_says_missing = True

    def declared_input(self):
        """The start-up grant input of the grant service."""
        return StartupGrantInput


class RuleSetUploadForm(DeclaredForm):
    """Upload a rule-set TOML file (docs/policy-rules.md): the file is the whole input, checked by the rule-set
    parser, so the declared input has no field."""

    file = FileField(_l("规则集文件（.toml）"), validators=[FileRequired(message=_l("请选择规则集文件。"))])

    def declared_input(self):
        """No declared field: the upload is the file alone."""
        return EmptyInput


# --- the what-if calculator ---------------------------------------------------------------------------------------


class PaymentRowForm(Form):
    """One payment of the calculator: date and amount."""

    paid_on = DateField(_l("日期"), validators=[Optional()], format="%Y-%m-%d")
    amount_fen = MoneyField(_l("金额"))


class IntermediaryRowForm(Form):
    """One intermediary of the calculator: a name for the result and an agreed share."""

    name = StringField(_l("姓名"), validators=[Optional(), max_length(INTERMEDIARY_NAME_MAX_LENGTH)])
    share_bp = PercentField(_l("分配比例（%）"))


@dataclass(frozen=True)
class ScenarioEvent:
    """What the calculator shows for one scenario event."""

    id: str
    kind: str
    date: dt.date
    amount_fen: int | None = None
    position: int = 0


@dataclass
class CalculatorScenario:
    """A scenario document in the POLICY.md format, with the labels the results page needs."""

    document: dict
    events: dict[str, ScenarioEvent]
    parties: dict[str, str]
    transferor_kind: str | None = None
    signed_on: dt.date | None = None
    inventor_share_bp: int | None = None


def _valley_choices(valleys, blank) -> list:
    """Valley options with a first "not resident" option."""
    return options([("", blank)] + [(valley.id, valley_name(valley)) for valley in valleys])


def _resident(valley: str, since: dt.date | None) -> dict:
    """The organisation keys for residency in a valley (absent when not resident)."""
    if not valley:
        return {}
    return {"valley": valley, **({"resident_since": since.isoformat()} if since else {})}


def _require_positive(money_field) -> bool:
    """Add an error unless a parsed amount is above zero (a parse error is already shown)."""
    if money_field.data == 0:
        money_field.errors = list(money_field.errors) + [_l("金额必须大于零。")]
        return False
    return True


class _PaymentsMixin:
    """Checks and events shared by the calculator forms that take a list of payments."""

    def _check_payments(self) -> bool:
        ok = True
        used = 0
        for row in self.payments:
            paid_on, amount = row.form.paid_on, row.form.amount_fen
            if amount.data is None and paid_on.data is None:
                continue
            if amount.data is None or amount.data == 0:
                amount.errors = list(amount.errors) + [_l("请填写大于零的金额。")]
                ok = False
            if paid_on.data is None and not paid_on.errors:
                paid_on.errors = list(paid_on.errors) + [_l("请填写日期。")]
                ok = False
            used += 1
        if used == 0:
            self.form_errors = list(getattr(self, "form_errors", [])) + [_l("请至少填写一笔付款（日期和金额）。")]
            ok = False
        return ok

    def _payment_events(self, event_type: str, key: str, subject: str) -> list[tuple[dict, ScenarioEvent]]:
        events = []
        number = 0
        for row in self.payments:
            if row.form.amount_fen.data is None:
                continue
            number += 1
            event_id = f"pay{number}"
            day, amount = row.form.paid_on.data, row.form.amount_fen.data
            events.append(({"id": event_id, "type": event_type, "date": day.isoformat(), key: subject, "amount_fen": amount},
                           ScenarioEvent(event_id, "payment", day, amount, number)))
        return events


class PreorderCalculatorForm(MarketForm, _PaymentsMixin):
    """(a) A forward pre-order agreement and its payments (R1)."""

    seller_valley = SelectField(_l("卖方入驻的谷区"), default="")
    seller_resident_since = DateField(_l("卖方入驻日期"), validators=[Optional()], format="%Y-%m-%d",
                                      description=_l("留空表示签约时已入驻"))
    related = BooleanField(_l("买卖双方存在关联关系"))
    signed_on = DateField(_l("协议签订日期"), validators=[InputRequired(message=_l("请填写日期。"))], format="%Y-%m-%d")
    value_fen = MoneyField(_l("协议金额"), note=_l("不含税"),
                           validators=[InputRequired(message=_l("请填写协议金额。"))])
    payments = FieldList(FormField(PaymentRowForm), min_entries=PAYMENT_ROWS, max_entries=PAYMENT_ROWS)

    def set_valleys(self, valleys) -> None:
        """Offer the valleys."""
        self.seller_valley.choices = _valley_choices(valleys, _l("未入驻谷区"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        ok = _require_positive(self.value_fen) and ok
        return self._check_payments() and ok

    def to_scenario(self) -> CalculatorScenario:
        """The scenario: seller S (resident as given), buyer B, agreement A signed, then the payments."""
        seller = {"id": "S", "kind": "enterprise", **_resident(self.seller_valley.data, self.seller_resident_since.data)}
        signed = self.signed_on.data
        events = [({"id": "signed", "type": "preorder_signed", "date": signed.isoformat(), "agreement": "A",
                    "buyer": "B", "seller": "S", "value_fen": self.value_fen.data, "related": bool(self.related.data)},
                   ScenarioEvent("signed", "preorder_signed", signed, self.value_fen.data))]
        events += self._payment_events("preorder_paid", "agreement", "A")
        return CalculatorScenario(
            document={"rules": "active", "organisations": [seller, {"id": "B", "kind": "enterprise"}],
                      "events": [document for document, _ in events]},
            events={info.id: info for _, info in events},
            parties={"S": str(_l("卖方企业")), "B": str(_l("买方"))},
            signed_on=signed,
        )


TRANSFEROR_KINDS = (("university", _l("高校")), ("institute", _l("科研院所")), ("enterprise", _l("企业")))


class TransferCalculatorForm(MarketForm, _PaymentsMixin):
    """(b) A transfer contract with intermediaries, an agent and proceeds payments (R2, R3)."""

    transferor_kind = SelectField(_l("转让方类型"), choices=options(TRANSFEROR_KINDS), default="university")
    transferee_valley = SelectField(_l("受让企业入驻的谷区"), default="")
    transferee_resident_since = DateField(_l("受让企业入驻日期"), validators=[Optional()], format="%Y-%m-%d",
                                          description=_l("留空表示签约时已入驻"))
    signed_on = DateField(_l("合同签订日期"), validators=[InputRequired(message=_l("请填写日期。"))], format="%Y-%m-%d")
    value_fen = MoneyField(_l("合同金额"),
                           validators=[InputRequired(message=_l("请填写合同金额。"))])
    registered = BooleanField(_l("已完成技术合同登记"), default=True)
    reward_rate_bp = PercentField(_l("中介服务奖励比例（%，按到账收益计）"), default=0)
    intermediaries = FieldList(FormField(IntermediaryRowForm), min_entries=INTERMEDIARY_ROWS,
                               max_entries=INTERMEDIARY_ROWS)
    has_agent = BooleanField(_l("由技术转移机构或技术经理人代理（阳泉奖励）"))
    inventor_share_bp = PercentField(_l("成果完成人（团队）所得比例（%，可选）"),
                                     description=_l("用于核对法定比例：不低于 50%，山西公立单位宜不低于 70%"))
    payments = FieldList(FormField(PaymentRowForm), min_entries=PAYMENT_ROWS, max_entries=PAYMENT_ROWS)

    def set_valleys(self, valleys) -> None:
        """Offer the valleys."""
        self.transferee_valley.choices = _valley_choices(valleys, _l("未入驻谷区"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        ok = _require_positive(self.value_fen) and ok
        ok = self._check_payments() and ok
        shares = [row.form.share_bp.data for row in self.intermediaries if row.form.share_bp.data is not None]
        for row in self.intermediaries:
            if row.form.name.data and row.form.share_bp.data is None and not row.form.share_bp.errors:
                row.form.share_bp.errors = list(row.form.share_bp.errors) + [_l("请填写分配比例。")]
                ok = False
            if row.form.share_bp.data == 0:
                row.form.share_bp.errors = list(row.form.share_bp.errors) + [_l("分配比例须大于零。")]
                ok = False
        if shares and sum(shares) != BASIS_POINTS:
            self.form_errors = list(getattr(self, "form_errors", [])) + [_l("中介人员的分配比例合计须为 100%。")]
            ok = False
        return ok

    def to_scenario(self) -> CalculatorScenario:
        """The scenario: transferor T, transferee E (resident as given), agent M, intermediaries P1–P3, contract C."""
        signed = self.signed_on.data
        organisations = [{"id": "T", "kind": self.transferor_kind.data},
                         {"id": "E", "kind": "enterprise",
                          **_resident(self.transferee_valley.data, self.transferee_resident_since.data)}]
        parties = {"T": str(_l("转让方")), "E": str(_l("受让企业"))}
        people = []
        for number, row in enumerate(self.intermediaries, start=1):
            if row.form.share_bp.data is None:
                continue
            person = f"P{number}"
            people.append({"person": person, "share_bp": row.form.share_bp.data})
            parties[person] = row.form.name.data.strip() if row.form.name.data else str(_l("中介人员%(n)s", n=number))
        signing = {"id": "signed", "type": "transfer_signed", "date": signed.isoformat(), "contract": "C",
                   "achievement": "K", "transferor": "T", "transferee": "E", "value_fen": self.value_fen.data,
                   "reward_rate_bp": self.reward_rate_bp.data or 0, "intermediaries": people,
                   "registered": bool(self.registered.data)}
        if self.has_agent.data:
            organisations.append({"id": "M", "kind": "agency"})
            parties["M"] = str(_l("技术转移机构（代理）"))
            signing["agent"] = "M"
        events = [(signing, ScenarioEvent("signed", "transfer_signed", signed, self.value_fen.data))]
        events += self._payment_events("transfer_paid", "contract", "C")
        return CalculatorScenario(
            document={"rules": "active", "organisations": organisations, "events": [document for document, _ in events]},
            events={info.id: info for _, info in events},
            parties=parties,
            transferor_kind=self.transferor_kind.data,
            signed_on=signed,
            inventor_share_bp=self.inventor_share_bp.data,
        )


class StartupCalculatorForm(MarketForm):
    """(c) A start-up capital grant (R4)."""

    valley = SelectField(_l("入驻（入选）的谷区"), default="")
    granted_on = DateField(_l("支持日期"), validators=[InputRequired(message=_l("请填写日期。"))], format="%Y-%m-%d")
    founders_paid_in_fen = MoneyField(_l("创始人自有资金实缴"),
                                      validators=[InputRequired(message=_l("请填写创始人实缴金额。"))])
    awarded_fen = MoneyField(_l("拟支持金额"),
                             validators=[InputRequired(message=_l("请填写拟支持金额。"))])

    def set_valleys(self, valleys) -> None:
        """Offer the valleys."""
        self.valley.choices = _valley_choices(valleys, _l("未入驻谷区"))

    def to_scenario(self) -> CalculatorScenario:
        """The scenario: startup S (resident as given) and one grant."""
        day = self.granted_on.data
        startup = {"id": "S", "kind": "enterprise", **_resident(self.valley.data, None)}
        grant = {"id": "grant", "type": "startup_grant", "date": day.isoformat(), "startup": "S",
                 "founders_paid_in_fen": self.founders_paid_in_fen.data, "awarded_fen": self.awarded_fen.data}
        return CalculatorScenario(
            document={"rules": "active", "organisations": [startup], "events": [grant]},
            events={"grant": ScenarioEvent("grant", "startup_grant", day, self.awarded_fen.data)},
            parties={"S": str(_l("初创企业"))},
            signed_on=day,
        )


CALCULATOR_FORMS = {
    "preorder": PreorderCalculatorForm,
    "transfer": TransferCalculatorForm,
    "startup": StartupCalculatorForm,
}
"""The calculator's scenario kinds and their forms."""

_WAN = 1_000_000
CALCULATOR_EXAMPLES = {
    "preorder": {
        "seller_valley": "taiyuan", "seller_resident_since": dt.date(2024, 3, 1), "signed_on": dt.date(2024, 10, 15),
        "value_fen": 15_000 * _WAN,
        "payments": [{"paid_on": dt.date(2025, 3, 31), "amount_fen": 7_000 * _WAN},
                     {"paid_on": dt.date(2025, 9, 30), "amount_fen": 5_000 * _WAN},
                     {"paid_on": dt.date(2026, 2, 1), "amount_fen": 2_000 * _WAN},
                     {"paid_on": dt.date(2026, 3, 1), "amount_fen": 2_000 * _WAN}],
    },
    "transfer": {
        "transferor_kind": "university", "signed_on": dt.date(2025, 3, 10), "value_fen": 1_200 * _WAN,
        "registered": True, "reward_rate_bp": 2000, "inventor_share_bp": 7000,
        "intermediaries": [{"name": "", "share_bp": 5000}, {"name": "", "share_bp": 3000}, {"name": "", "share_bp": 2000}],
        "payments": [{"paid_on": dt.date(2025, 4, 30), "amount_fen": 600 * _WAN},
                     {"paid_on": dt.date(2025, 5, 30), "amount_fen": 600 * _WAN}],
    },
    "startup": {
        "valley": "taiyuan", "granted_on": dt.date(2024, 6, 1), "founders_paid_in_fen": 80 * _WAN,
        "awarded_fen": 100 * _WAN,
    },
}
"""What the calculator shows first: the worked examples of POLICY.md (1, 2 and 4)."""
