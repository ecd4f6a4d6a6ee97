"""Deal forms: shape only (amounts in 万元 and rates in percent become integers here); the deal modules hold the rules."""
import re
import unicodedata
from typing import ClassVar

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.widgets import DateInput

from market.awards.payment_input import PaymentInput
from market.confirmations.forms import evidence_field
from market.confirmations.inputs import EVIDENCE_PDF_MAX_BYTES
from market.deals.inputs import (
    INTERMEDIARY_ROWS,
    BidRoundInput,
    BrokerDeclineInput,
    BrokerInvitationInput,
    BrokerRemovalInput,
    CompletionInput,
    DeclineInput,
    ExceptionInput,
    FeeInput,
    IntermediariesInput,
    NoticeInput,
    NoticeWithdrawalInput,
    RegistrationInput,
    ResponseInput,
    SigningInput,
    TerminationInput,
    TermsAcceptanceInput,
    TermsInput,
)
from market.deals.labels import DECLINE_REASON_LABELS
from market.deals.limits import DEFAULT_NOTICE_DAYS, MAX_MESSAGE_CHARS, MAX_NOTICE_DAYS, MAX_PROPOSAL_CHARS
from market.formtools import DatabaseIdField, DeclaredForm, MarketForm, MoneyField, options
from market.listings.vocabulary import TransferMode, label
from market.money import rate_number
from market.uploads import size_text

_PERCENT = re.compile(r"(?P<whole>[0-9]{1,3})(?:\.(?P<fraction>[0-9]{1,2}))?", re.ASCII)
_MAX_PERCENT_CHARS = 12


def parse_percent(text: str) -> int:
    """A percentage typed by a person ("12.5", "12.5%", full-width digits too) as basis points; ValueError in Chinese."""
    normalised = unicodedata.normalize("NFKC", text or "").strip()
    if len(normalised) > _MAX_PERCENT_CHARS:
        raise ValueError(str(_l("比例太长，请输入 0 到 100 之间的数字。")))
    normalised = normalised.removesuffix("%").rstrip()
    match = _PERCENT.fullmatch(normalised)
    if match is None:
        raise ValueError(str(_l("请输入 0 到 100 之间的数字，最多两位小数，如 12.5。")))
    basis_points = int(match.group("whole")) * 100 + int((match.group("fraction") or "").ljust(2, "0"))
    if basis_points > 10_000:
        raise ValueError(str(_l("比例不能超过 100%。")))
    return basis_points


class PercentField(StringField):
    """A rate typed in percent; `.data` is integer basis points or None when left empty."""

    def process_formdata(self, valuelist):
        self.raw_text = valuelist[0] if valuelist else ""
        self.data = None
        if self.raw_text.strip():
            self.data = parse_percent(self.raw_text)

    def _value(self):
        if getattr(self, "raw_text", None):
            return self.raw_text
        return rate_number(self.data) if isinstance(self.data, int) else ""


def mode_choices(modes) -> list:
    """Transfer-mode options (the given ones, in vocabulary order) with an empty first option."""
    wanted = set(modes) if modes else set(TransferMode)
    return options([("", _l("请选择"))] + [(mode.value, label(mode)) for mode in TransferMode if mode in wanted])


def user_choices(users, empty_label) -> list:
    """People as select options (name and organisation)."""
    return options([("", empty_label)] + [(user.id, f"{user.name}（{user.organisation.name}）" if user.organisation
                                           else user.name) for user in users])


class BidForm(DeclaredForm):
    """An offer or a counter-offer on an achievement (required fields and the message's length from the declared
    bid round)."""

    amount_fen = MoneyField(_l("报价"))
    mode = SelectField(_l("转化方式"), validate_choice=False)
    message = TextAreaField(_l("留言"), description=_l("说明报价依据、付款方式等，最多 %(n)s 字。", n=MAX_MESSAGE_CHARS))
    input_says_missing = True

    def declared_input(self):
        """The bid round the API and the bid services validate with."""
        return BidRoundInput


class AcceptBidForm(MarketForm):
    """Accept the latest round (the round number guards against accepting a round that changed meanwhile); on an
    achievement transferred outright the owner ticks that it may license it again."""

    version = HiddenField()
    confirm_relicense = BooleanField(_l("我确认本机构仍有权再次许可该成果"))


class AcceptIntroductionForm(MarketForm):
    """Accept an introduction for one's side; on an achievement transferred outright the owner ticks that it may
    license it again."""

    confirm_relicense = BooleanField(_l("我确认本机构仍有权再次许可该成果"))


class ResponseForm(DeclaredForm):
    """A researcher's proposal (揭榜) to a demand."""

    proposal = TextAreaField(_l("解决方案"), description=_l("技术路线、团队、周期和预期指标，最多 %(n)s 字。",
                                                        n=MAX_PROPOSAL_CHARS))
    amount_fen = MoneyField(_l("报价"), note=_l("可不填"))
    achievement_id = SelectField(_l("关联本机构的成果（可不选）"), validate_choice=False)
    input_says_missing = True

    def declared_input(self):
        """The response input the response service validates with."""
        return ResponseInput


class TermsForm(DeclaredForm):
    """The amount, transfer mode and (universities and institutes) inventors' share under negotiation."""

    agreed_amount_fen = MoneyField(_l("协议价格"))
    mode = SelectField(_l("转化方式"), validate_choice=False)
    inventor_share = PercentField(_l("发明人（团队）收益比例（%）"),
                                  description=_l("占转让净收入的比例，如 70 表示 70%；公示前须填写。"))

    def declared_input(self):
        """The terms input of the deal pipeline."""
        return TermsInput


class FeeForm(DeclaredForm):
    """The agency's service fee (佣金): a rate or a fixed amount, and the party that pays it."""

    fee_rate = PercentField(_l("佣金比例（%）"), description=_l("占合同金额的比例，如 5 表示 5%；与固定金额只填其一。"))
    fee_fixed_fen = MoneyField(_l("固定佣金"))
    fee_payer = SelectField(_l("支付方"), validate_choice=False)

    def declared_input(self):
        """The fee input of the deal's terms."""
        return FeeInput


class FeePaidForm(DeclaredForm):
    """The fee's payment as the paying party marks it."""

    amount_fen = MoneyField(_l("支付金额"))
    paid_on = StringField(_l("支付日期"), widget=DateInput())
    input_says_missing = True

    def declared_input(self):
        """The payment input (amount and date)."""
        return PaymentInput


class AdvanceForm(MarketForm):
    """Move to the next stage that needs no further data (洽谈, 协议定价)."""

    to = HiddenField()


class NoticeForm(DeclaredForm):
    """Start the public notice."""

    notice_days = StringField(_l("公示天数"), default=str(DEFAULT_NOTICE_DAYS),
                              description=_l("不少于 %(low)s 天，不超过 %(high)s 天。", low=DEFAULT_NOTICE_DAYS,
                                             high=MAX_NOTICE_DAYS), render_kw={"inputmode": "numeric"})
    input_says_missing = True

    def declared_input(self):
        """The notice input of the deal pipeline."""
        return NoticeInput


class SignForm(DeclaredForm):
    """Record the signed contract."""

    signed_on = StringField(_l("签约日期"), widget=DateInput())
    agreed_amount_fen = MoneyField(_l("合同金额"))
    input_says_missing = True

    def declared_input(self):
        """The signing input of the deal pipeline."""
        return SigningInput


class RegisterForm(DeclaredForm):
    """Record the technology-contract registration."""

    registration_number = StringField(_l("技术合同登记编号"), render_kw={"autocomplete": "off"})
    registered_on = StringField(_l("登记日期"), widget=DateInput())
    certificate = FileField(_l("技术合同登记证明（PDF，不超过 %(size)s）", size=size_text(EVIDENCE_PDF_MAX_BYTES)))
    input_says_missing = True

    def declared_input(self):
        """The registration input of the deal pipeline."""
        return RegistrationInput


class CertificateForm(MarketForm):
    """Add the certificate PDF to a registration migrated without one."""

    certificate = FileField(_l("技术合同登记证明（PDF，不超过 %(size)s）", size=size_text(EVIDENCE_PDF_MAX_BYTES)))


class CompleteForm(DeclaredForm):
    """Close a deal in performance."""

    note = TextAreaField(_l("说明"), description=_l("未全部回款时必须说明完成原因。"))

    def declared_input(self):
        """The completion input of the deal pipeline."""
        return CompletionInput


class TermsAcceptanceForm(DeclaredForm):
    """Accept the version of the terms the page showed."""

    version = HiddenField()
    input_says_missing = True

    def declared_input(self):
        """The terms acceptance input of the deal pipeline."""
        return TermsAcceptanceInput


class NoticeWithdrawalForm(DeclaredForm):
    """Take the public notice down with a reason."""

    reason = TextAreaField(_l("撤回原因"))
    input_says_missing = True

    def declared_input(self):
        """The notice withdrawal input of the deal pipeline."""
        return NoticeWithdrawalInput


class TerminateForm(DeclaredForm):
    """End a deal with a reason."""

    reason = TextAreaField(_l("终止原因"))
    input_says_missing = True

    def declared_input(self):
        """The termination input of the deal pipeline."""
        return TerminationInput


class IntermediariesForm(DeclaredForm):
    """Up to three named intermediaries with shares, the agreed reward rate and the agent organisation."""

    intermediary_1 = SelectField(_l("中介服务人员 1"), validate_choice=False)
    share_1 = PercentField(_l("分成比例（%）"))
    intermediary_2 = SelectField(_l("中介服务人员 2"), validate_choice=False)
    share_2 = PercentField(_l("分成比例（%）"))
    intermediary_3 = SelectField(_l("中介服务人员 3"), validate_choice=False)
    share_3 = PercentField(_l("分成比例（%）"))
    reward_rate = PercentField(_l("中介奖励比例（%）"), description=_l("按回款金额计提，如 10 表示 10%。"))
    agent_organisation = SelectField(_l("代理机构（技术转移机构，可不选）"), validate_choice=False)

    def rows(self) -> list[tuple]:
        """(person id text, share bp) for each of the three rows."""
        return [(self[f"intermediary_{n}"].data or None, self[f"share_{n}"].data) for n in INTERMEDIARY_ROWS]

    def fill_from(self, deal) -> None:
        """Show a deal's current intermediaries."""
        for number, row in zip(INTERMEDIARY_ROWS, deal.intermediaries, strict=False):
            self[f"intermediary_{number}"].data = str(row.user_id)
            self[f"share_{number}"].data = row.share_bp
        self.reward_rate.data = deal.reward_rate_bp
        self.agent_organisation.data = str(deal.agent_organisation_id or "")

    def declared_input(self):
        """The intermediaries input of the deal services."""
        return IntermediariesInput


class ExceptionForm(DeclaredForm):
    """An admin's written reason for a fourth intermediary."""

    exception_reason = TextAreaField(_l("例外原因"))
    input_says_missing = True

    def declared_input(self):
        """The exception input of the deal services."""
        return ExceptionInput


class BrokerInvitationForm(DeclaredForm):
    """A party invites, or an admin proposes, an approved broker."""

    broker = SelectField(_l("技术经理人"), validate_choice=False)
    input_says_missing = True

    def declared_input(self):
        """The invitation input of the broker services."""
        return BrokerInvitationInput


class BrokerDeclineForm(DeclaredForm):
    """Declining or withdrawing a broker request, with an optional reason."""

    reason = TextAreaField(_l("原因（可不填）"))

    def declared_input(self):
        """The decline input of the broker services."""
        return BrokerDeclineInput


class BrokerRemovalForm(DeclaredForm):
    """Removing the deal's broker with a reason."""

    reason = TextAreaField(_l("移除原因"))
    input_says_missing = True

    def declared_input(self):
        """The removal input of the broker services."""
        return BrokerRemovalInput


class PaymentForm(DeclaredForm):
    """Proceeds received under the registered contract (required fields from the declared payment input)."""

    amount_fen = MoneyField(_l("回款金额"))
    paid_on = StringField(_l("回款日期"), widget=DateInput())
    evidence = evidence_field(optional=True)
    input_says_missing = True

    def declared_input(self):
        """The payment input the API and the payment services validate with."""
        return PaymentInput


class DeclineForm(DeclaredForm):
    """Declining a bid, a response or an introduction: a reason from the list and an optional note."""

    blank_choices: ClassVar[dict] = {"reason": _l("请选择原因")}
    input_says_missing = True
    reason = SelectField(_l("拒绝原因"))
    note = TextAreaField(_l("补充说明（选择“其他”时必填，会告知对方）"))

    def declared_input(self):
        """The decline input shared by bids, responses and introductions."""
        return DeclineInput

    def choice_label(self, name: str, value) -> str:
        """A reason in words."""
        return str(DECLINE_REASON_LABELS[value])


class IntroductionForm(MarketForm):
    """A broker's introduction: the achievement and the demand come from the match (the page's address); without a
    demand an enterprise is chosen."""

    organisation_id = DatabaseIdField(_l("引荐给企业"))
    note = TextAreaField(_l("引荐说明（双方都会看到）"))
