"""Declared inputs of the deal writes: a bid round, accepting a round, the terms, and each move of the pipeline, with
their limits and each move's own messages (rules that need the deal itself stay in the deal modules)."""
import unicodedata
from datetime import date
from typing import Annotated, Any

from flask_babel import gettext as _
from pydantic import Field

from market.deals import recording
from market.deals.limits import (
    DEFAULT_NOTICE_DAYS,
    EARLIEST_DATE,
    MAX_INTERMEDIARY_ROWS,
    MAX_MESSAGE_CHARS,
    MAX_NOTICE_DAYS,
    MAX_PROPOSAL_CHARS,
    MAX_REASON_CHARS,
    REGISTRATION_NUMBER,
    REGISTRATION_NUMBER_MAX_LENGTH,
    REGISTRATION_NUMBER_MIN_LENGTH,
)
from market.deals.models import DealStage, DeclineReason, FeePayer
from market.deals.recording import clean_amount
from market.declared import DeclaredInput, EmptyInput, cleaned_by, text
from market.inputs import (
    MAX_ID,
    FieldErrors,
    clean_choice,
    clean_id,
    clean_int,
    clean_required_date,
    clean_required_text,
    clean_text,
    clean_whole_number,
)
from market.listings.vocabulary import TransferMode
from market.money import BASIS_POINTS, MAX_FEN, rate_number

MAX_ROUND_NUMBER = 2**31 - 1


def clean_mode(errors: FieldErrors, name: str, value, *, required: bool = True) -> TransferMode | None:
    """One transfer mode of the vocabulary."""
    if value in (None, ""):
        if required:
            errors.add(name, _("请选择转化方式。"))
        return None
    try:
        return TransferMode(value)
    except (ValueError, TypeError):
        errors.add(name, _("无效的选项。"))
        return None


def clean_notice_days(errors: FieldErrors, name: str, value) -> int | None:
    """The length of the public notice in whole days."""
    days = clean_int(errors, name, value, low=DEFAULT_NOTICE_DAYS, high=MAX_NOTICE_DAYS, required=True)
    if name in errors:
        errors[name] = _("公示期应为 %(low)s 到 %(high)s 天的整数。", low=DEFAULT_NOTICE_DAYS, high=MAX_NOTICE_DAYS)
    return days


def clean_signing_date(errors: FieldErrors, name: str, value) -> date | None:
    """The day the contract was signed (not after today)."""
    return clean_required_date(errors, name, value, low=EARLIEST_DATE, high=recording.today(),
                               malformed=_("签约日期格式应为 YYYY-MM-DD，且不能晚于今天。"), missing=_("请填写签约日期。"))


def clean_registration_number(errors: FieldErrors, name: str, value) -> str:
    """A technology-contract registration number: letters, digits and hyphens (full-width forms accepted)."""
    number = clean_text(errors, name, value, max_len=REGISTRATION_NUMBER_MAX_LENGTH, required=True, multiline=False)
    if not number:
        return ""
    number = unicodedata.normalize("NFKC", number).upper().replace(" ", "")
    if not REGISTRATION_NUMBER.fullmatch(number):
        errors.add(name, _("登记编号只能包含字母、数字和连字符，%(low)s 到 %(high)s 位。",
                           low=REGISTRATION_NUMBER_MIN_LENGTH, high=REGISTRATION_NUMBER_MAX_LENGTH))
        return ""
    return number


def clean_registration_date(errors: FieldErrors, name: str, value) -> date | None:
    """The day the contract was registered (not after today)."""
    return clean_required_date(errors, name, value, low=EARLIEST_DATE, high=recording.today(),
                               malformed=_("登记日期格式应为 YYYY-MM-DD，且不能晚于今天。"), missing=_("请填写登记日期。"))


def clean_reason(errors: FieldErrors, name: str, value) -> str:
    """The written reason for ending a deal (required)."""
    return clean_required_text(errors, name, value, max_len=MAX_REASON_CHARS, missing=_("请填写终止原因。"))


def clean_notice_withdrawal_reason(errors: FieldErrors, name: str, value) -> str:
    """The written reason for taking a notice down (required; everyone involved is told)."""
    return clean_required_text(errors, name, value, max_len=MAX_REASON_CHARS, missing=_("请填写撤回公示的原因。"))


def clean_terms_version(errors: FieldErrors, name: str, value) -> int | None:
    """The number of the terms version being accepted (the one the person was shown)."""
    return clean_int(errors, name, value, low=1, high=MAX_ROUND_NUMBER, required=True)


def clean_round_number(errors: FieldErrors, name: str, value) -> int | None:
    """The number of the bid round being accepted."""
    return clean_int(errors, name, value, low=1, high=MAX_ROUND_NUMBER, required=True)


class BidRoundInput(DeclaredInput):
    """One round of a bid: an offer or a counter-offer."""

    amount_fen: Annotated[int, Field(ge=1, le=MAX_FEN, description="报价金额（分）。"),
                          cleaned_by(clean_amount, required=True)]
    mode: Annotated[TransferMode, Field(description="转化方式，须为成果提供的方式之一。"), cleaned_by(clean_mode)]
    message: text(MAX_MESSAGE_CHARS, description="留言。")


class BidAcceptInput(DeclaredInput):
    """Accepting the other side's latest round, named by its number."""

    version: Annotated[int, Field(ge=1, le=MAX_ROUND_NUMBER,
                                  description="所接受的一轮报价的编号，须为最新一轮（防止接受已被更新的报价）。"),
                       cleaned_by(clean_round_number)]
    confirm_relicense: Annotated[bool, Field(False, strict=True, description=(
        "成果已整体转让（转让方式的项目已签约）时，成果方确认本机构仍有权再次许可；未确认时拒绝接受。"))]


class IntroductionAcceptInput(DeclaredInput):
    """Accepting an introduction for one's side (all optional)."""

    confirm_relicense: Annotated[bool, Field(False, strict=True, description=(
        "成果已整体转让（转让方式的项目已签约）时，成果方确认本机构仍有权再次许可；成果方未确认时拒绝接受。"))]


def clean_inventor_share(errors: FieldErrors, name: str, value) -> int | None:
    """The inventors' share of net income in basis points, 0% to 100% (None when left empty)."""
    return clean_whole_number(errors, name, value, low=0, high=BASIS_POINTS,
                              invalid=_("发明人收益比例应在 0% 到 100% 之间。"))


class TermsInput(DeclaredInput):
    """The amount, transfer mode and (universities and institutes) inventors' share under negotiation (each may be
    left open until the notice)."""

    agreed_amount_fen: Annotated[int | None, Field(None, ge=1, le=MAX_FEN, description="协议价格（分）。"),
                                 cleaned_by(clean_amount, required=False)]
    mode: Annotated[TransferMode | None, Field(None, description="转化方式，须为成果提供的方式之一。"),
                    cleaned_by(clean_mode, required=False)]
    inventor_share: Annotated[int | None, Field(None, ge=0, le=BASIS_POINTS,
                                                description="发明人（团队）收益比例（基点，5000 即 50%，占净收入）；"
                                                            "转让方为高校或科研院所时须在公示前填写，不得低于法定下限，"
                                                            "其他转让方不填。"),
                              cleaned_by(clean_inventor_share)]


def clean_fee_rate(errors: FieldErrors, name: str, value) -> int | None:
    """The agency's fee as basis points of the contract amount, above 0% and at most 100% (None when left empty)."""
    return clean_whole_number(errors, name, value, low=1, high=BASIS_POINTS,
                              invalid=_("佣金比例应大于 0% 且不超过 100%。"))


def clean_fee_payer(errors: FieldErrors, name: str, value) -> FeePayer | None:
    """The party that pays the fee (None when no fee is agreed)."""
    if value in (None, ""):
        return None
    try:
        return FeePayer(value)
    except (ValueError, TypeError):
        errors.add(name, _("无效的选项。"))
        return None


class FeeInput(DeclaredInput):
    """The agency's service fee (佣金) agreed with the client: a rate or a fixed amount (or none), and who pays it."""

    fee_rate: Annotated[int | None, Field(None, ge=1, le=BASIS_POINTS,
                                          description="佣金比例（基点，占合同金额，500 即 5%）；与固定金额只填其一。"),
                        cleaned_by(clean_fee_rate)]
    fee_fixed_fen: Annotated[int | None, Field(None, ge=1, le=MAX_FEN, description="固定佣金（分）；与比例只填其一。"),
                             cleaned_by(clean_amount, required=False)]
    fee_payer: Annotated[FeePayer | None, Field(None, description="支付佣金的一方：transferor 或 transferee；"
                                                                  "约定佣金时必填。"),
                         cleaned_by(clean_fee_payer)]


class NoticeInput(DeclaredInput):
    """Starting the public notice (公示)."""

    notice_days: Annotated[int, Field(DEFAULT_NOTICE_DAYS, ge=DEFAULT_NOTICE_DAYS, le=MAX_NOTICE_DAYS,
                                      description="公示天数。"), cleaned_by(clean_notice_days)]


class SigningInput(DeclaredInput):
    """The signed contract: its date (after the notice) and amount (the notice's price)."""

    signed_on: Annotated[date, Field(description="签约日期，须在公示期满之后。"), cleaned_by(clean_signing_date)]
    agreed_amount_fen: Annotated[int, Field(ge=1, le=MAX_FEN, description="合同金额（分），须与公示价格一致。"),
                                 cleaned_by(clean_amount, required=True)]


class RegistrationInput(DeclaredInput):
    """The technology-contract registration (技术合同登记)."""

    registration_number: Annotated[str, Field(min_length=REGISTRATION_NUMBER_MIN_LENGTH,
                                              max_length=REGISTRATION_NUMBER_MAX_LENGTH,
                                              description="技术合同登记编号。"),
                                   cleaned_by(clean_registration_number)]
    registered_on: Annotated[date, Field(description="登记日期，不早于签约日期。"), cleaned_by(clean_registration_date)]


class CompletionInput(DeclaredInput):
    """Closing a deal in performance."""

    note: text(MAX_REASON_CHARS, description="完成说明；未全部回款时必填。")


class TerminationInput(DeclaredInput):
    """Ending a deal."""

    reason: Annotated[str, Field(max_length=MAX_REASON_CHARS, description="终止原因，必填。"), cleaned_by(clean_reason)]


class TermsAcceptanceInput(DeclaredInput):
    """Accepting a version of a deal's terms."""

    version: Annotated[int, Field(ge=1, le=MAX_ROUND_NUMBER, description="所确认的交易条件版本号（页面显示的版本）。"),
                       cleaned_by(clean_terms_version)]


class NoticeWithdrawalInput(DeclaredInput):
    """Taking a public notice down so the terms may change."""

    reason: Annotated[str, Field(max_length=MAX_REASON_CHARS, description="撤回公示的原因，必填，会告知各相关方。"),
                      cleaned_by(clean_notice_withdrawal_reason)]


STAGE_INPUTS: dict[DealStage, type[DeclaredInput]] = {
    DealStage.NEGOTIATION: EmptyInput,
    DealStage.PRICING: EmptyInput,
    DealStage.NOTICE: NoticeInput,
    DealStage.SIGNED: SigningInput,
    DealStage.REGISTERED: RegistrationInput,
    DealStage.COMPLETED: CompletionInput,
    DealStage.TERMINATED: TerminationInput,
}
"""The stages a deal may be moved into by a person and the input each move takes (performance is reached by the first
payment)."""


# ---------------------------------------------------------------- responses, intermediaries and brokers

INTERMEDIARY_ROWS = tuple(range(1, MAX_INTERMEDIARY_ROWS + 1))
"""The numbers of the intermediary rows (fields intermediary_N and share_N)."""


def clean_achievement_choice(errors: FieldErrors, name: str, value) -> int | None:
    """The id of the achievement a response names (checked against the stored achievement)."""
    return clean_id(errors, name, value, message=_("请选择本机构已发布的成果。"))


def clean_broker_choice(errors: FieldErrors, name: str, value) -> int | None:
    """The id of a person named as an intermediary or a deal's broker (checked against the stored person)."""
    return clean_id(errors, name, value, message=_("请选择平台上已审核的技术经理人。"))


def clean_agency_choice(errors: FieldErrors, name: str, value) -> int | None:
    """The id of the agent organisation (checked against the stored organisation)."""
    return clean_id(errors, name, value, message=_("请选择已审核的技术转移机构。"))


def clean_share(errors: FieldErrors, name: str, value) -> int | None:
    """An intermediary's share in basis points, above 0% and at most 100% (None when left empty)."""
    return clean_whole_number(errors, name, value, low=1, high=BASIS_POINTS,
                              invalid=_("分成比例应大于 0% 且不超过 100%。"))


def clean_reward_rate(errors: FieldErrors, name: str, value) -> int | None:
    """The intermediaries' reward rate in basis points, 0% to 100% (0 when left empty)."""
    return clean_whole_number(errors, name, value, low=0, high=BASIS_POINTS,
                              invalid=_("奖励比例应在 0% 到 100% 之间。"), empty=0)


def clean_exception_reason(errors: FieldErrors, name: str, value) -> str:
    """The written reason for an intermediary exception (required)."""
    return clean_required_text(errors, name, value, max_len=MAX_REASON_CHARS, missing=_("请填写例外原因。"))


def chosen_id(clean, description: str) -> Any:
    """An optional database id picked from a list, refused by `clean` with its own message."""
    return Annotated[int | None, Field(None, ge=1, le=MAX_ID, description=description), cleaned_by(clean)]


def intermediary_share(number: int) -> Any:
    """The share of the intermediary of row `number`."""
    return Annotated[int | None, Field(None, ge=1, le=BASIS_POINTS,
                                       description=f"中介服务人员 {number} 的分成比例（基点，10000 即 100%）；"
                                                   "只填一人时可不填，即 100%。"),
                     cleaned_by(clean_share)]


class ResponseInput(DeclaredInput):
    """A researcher's answer (揭榜) to a demand: the proposal, and optionally a price and an achievement."""

    proposal: text(MAX_PROPOSAL_CHARS, required=True, description="解决方案：技术路线、团队、周期和预期指标。")
    amount_fen: Annotated[int | None, Field(None, ge=1, le=MAX_FEN, description="报价（分），可不填。"),
                          cleaned_by(clean_amount, required=False)]
    achievement_id: chosen_id(clean_achievement_choice, "关联成果的编号（本机构已发布的成果），可不填。")


class IntermediariesInput(DeclaredInput):
    """Up to three intermediaries, each a numbered row of a person and a share, the reward rate and the agent."""

    intermediary_1: chosen_id(clean_broker_choice, "中介服务人员 1（已审核的技术经理人）的编号。")
    share_1: intermediary_share(1)
    intermediary_2: chosen_id(clean_broker_choice, "中介服务人员 2（已审核的技术经理人）的编号。")
    share_2: intermediary_share(2)
    intermediary_3: chosen_id(clean_broker_choice, "中介服务人员 3（已审核的技术经理人）的编号。")
    share_3: intermediary_share(3)
    reward_rate: Annotated[int, Field(0, ge=0, le=BASIS_POINTS,
                                      description="中介奖励比例（基点，1000 即 10%），按回款金额计提；不填为 0。"),
                           cleaned_by(clean_reward_rate)]
    agent_organisation: chosen_id(clean_agency_choice, "代理机构（已审核的技术转移机构）的编号，可不填。")

    @classmethod
    def check_together(cls, values: dict, errors: FieldErrors) -> None:
        """Each filled row names a person, no one twice; a sole person's empty share becomes 100%; shares sum to 100%."""
        rows = _filled_rows(values, errors)
        if len(rows) == 1 and not _entered(values, errors, f"share_{rows[0]}"):
            values[f"share_{rows[0]}"] = BASIS_POINTS
        seen = set()
        for number in rows:
            person, share = f"intermediary_{number}", f"share_{number}"
            if not _entered(values, errors, person):
                errors.add(person, _("请选择技术经理人。"))
            elif person not in errors:
                if values[person] in seen:
                    errors.add(person, _("同一人不能重复填写。"))
                seen.add(values[person])
            if not _entered(values, errors, share):
                errors.add(share, _("请填写分成比例。"))
        if rows and not any(f"{field}_{number}" in errors for number in rows for field in ("intermediary", "share")):
            total = sum(values[f"share_{number}"] for number in rows)
            if total != BASIS_POINTS:
                errors.add(f"share_{rows[-1]}",
                           _("各人分成比例合计须为 100%%（当前 %(p)s%%）。", p=rate_number(total)))


def _entered(values: dict, errors: FieldErrors, name: str) -> bool:
    """Whether a field was filled in (with a value that passed, or one that was refused)."""
    return name in errors or values.get(name) is not None


def _filled_rows(values: dict, errors: FieldErrors) -> list[int]:
    """The numbers of the intermediary rows where a person or a share was filled in."""
    return [number for number in INTERMEDIARY_ROWS
            if _entered(values, errors, f"intermediary_{number}") or _entered(values, errors, f"share_{number}")]


class ExceptionInput(DeclaredInput):
    """An admin's written reason that allows more than three intermediaries for an achievement."""

    exception_reason: Annotated[str, Field(max_length=MAX_REASON_CHARS, description="例外原因，必填。"),
                                cleaned_by(clean_exception_reason)]


def clean_invited_broker(errors: FieldErrors, name: str, value) -> int | None:
    """The id of the broker a party invites or an admin proposes (required)."""
    if value is None or value == "":
        errors.add(name, _("请选择技术经理人。"))
        return None
    return clean_broker_choice(errors, name, value)


def clean_removal_reason(errors: FieldErrors, name: str, value) -> str:
    """The written reason for removing a deal's broker (required; the broker is shown it)."""
    return clean_required_text(errors, name, value, max_len=MAX_REASON_CHARS, missing=_("请填写移除原因。"))


class BrokerInvitationInput(DeclaredInput):
    """A party's invitation, or an admin's proposal, of an approved broker for a deal."""

    broker: Annotated[int, Field(ge=1, le=MAX_ID, description="受邀的技术经理人（已审核）的编号。"),
                      cleaned_by(clean_invited_broker)]


class BrokerDeclineInput(DeclaredInput):
    """Declining or withdrawing a broker request, with an optional reason shown to the others."""

    reason: text(MAX_REASON_CHARS, description="原因（可不填），会告知其他相关人员。")


class BrokerRemovalInput(DeclaredInput):
    """Removing a deal's broker: the reason is required and told to the broker."""

    reason: Annotated[str, Field(max_length=MAX_REASON_CHARS, description="移除原因，必填，会告知该经纪人。"),
                      cleaned_by(clean_removal_reason)]


# ---------------------------------------------------------------- declines and introductions


def clean_decline_reason(errors: FieldErrors, name: str, value) -> DeclineReason | None:
    """One reason of the decline list (required)."""
    if value is None or value == "":
        errors.add(name, _("请选择拒绝原因。"))
        return None
    return clean_choice(errors, name, value, DeclineReason)


class DeclineInput(DeclaredInput):
    """Declining a bid, a response or an introduction: a reason from the list and an optional note (required for
    "other"), both shown to the other side."""

    reason: Annotated[DeclineReason, Field(description="拒绝原因（从列表中选择）。"), cleaned_by(clean_decline_reason)]
    note: text(MAX_REASON_CHARS, description="补充说明（可不填；原因为 other 时必填），会告知对方。")

    @classmethod
    def check_together(cls, values: dict, errors: FieldErrors) -> None:
        """The reason "other" needs a note."""
        if values.get("reason") == DeclineReason.OTHER and not values.get("note") and "note" not in errors:
            errors.add("note", _("选择“其他”时请填写说明。"))


def clean_introduced_achievement(errors: FieldErrors, name: str, value) -> int | None:
    """The id of the achievement being introduced (required)."""
    if value is None or value == "":
        errors.add(name, _("请选择要引荐的成果。"))
        return None
    return clean_id(errors, name, value, message=_("请选择已发布的成果。"))


def clean_demand_choice(errors: FieldErrors, name: str, value) -> int | None:
    """The id of the demand the achievement answers (checked against the stored demand)."""
    return clean_id(errors, name, value, message=_("请选择已发布的技术需求。"))


def clean_enterprise_choice(errors: FieldErrors, name: str, value) -> int | None:
    """The id of the enterprise the achievement is introduced to (checked against the stored organisation)."""
    return clean_id(errors, name, value, message=_("请选择已审核的企业。"))


class IntroductionInput(DeclaredInput):
    """A broker's introduction of an achievement to a demand or to an enterprise, with a note to both sides."""

    achievement_id: Annotated[int, Field(ge=1, le=MAX_ID, description="被引荐的成果（已发布）的编号。"),
                              cleaned_by(clean_introduced_achievement)]
    demand_id: chosen_id(clean_demand_choice, "对接的技术需求（已发布）的编号；与 organisation_id 二选一。")
    organisation_id: chosen_id(clean_enterprise_choice, "对接的企业（已审核）的编号；与 demand_id 二选一。")
    note: text(MAX_MESSAGE_CHARS, description="引荐说明，双方都会看到。")

    @classmethod
    def check_together(cls, values: dict, errors: FieldErrors) -> None:
        """Exactly one of the demand and the enterprise."""
        named = [name for name in ("demand_id", "organisation_id") if _entered(values, errors, name)]
        if not named:
            errors.add("demand_id", _("请选择技术需求或企业。"))
        elif len(named) == 2 and not errors:
            errors.add("organisation_id", _("技术需求和企业只能选择一项。"))
