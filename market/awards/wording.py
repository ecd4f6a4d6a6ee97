"""The one wording of what the policy engine explains (rejections, caps, holds, stacking) in the user's language, with
the engine's ids (org-3, user-7, deal-5, fiscal:province …) replaced by names; pages, exports and the API use it."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from market.accounts.models import Organisation, User
from market.awards.labels import CAP_SCOPE_DESCRIPTIONS, RULE_STATUS_LABELS
from market.awards.models import Award, AwardStatus, HoldReason
from market.money import format_rate, format_yuan
from market.policy.rules import CapScope, Rule
from market.taxonomy.models import Valley
from market.taxonomy.wording import city_name

_KEY = re.compile(r"([a-z]+)-([0-9]{1,12})", re.ASCII)

SubjectNamer = Callable[[Session, set[int]], dict[int, str]]
SUBJECT_NAMERS: dict[str, SubjectNamer] = {}
"""Who names an engine id of the form <prefix>-<number>: the features whose records the engine sees (deals, agreements,
achievements) register here, so that this module reads none of them."""


def names_subjects(prefix: str) -> Callable[[SubjectNamer], SubjectNamer]:
    """Register the namer of the engine ids <prefix>-<number> (a decorator)."""

    def register(namer: SubjectNamer) -> SubjectNamer:
        SUBJECT_NAMERS[prefix] = namer
        return namer

    return register


@names_subjects("org")
def _organisation_names(session: Session, ids: set[int]) -> dict[int, str]:
    return dict(session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all())


@names_subjects("user")
def _person_names(session: Session, ids: set[int]) -> dict[int, str]:
    rows = session.execute(select(User.id, User.name, Organisation.name)
                           .outerjoin(Organisation, Organisation.id == User.organisation_id).where(User.id.in_(ids)))
    return {user_id: f"{name}（{org_name}）" if org_name else name for user_id, name, org_name in rows}


class Names:
    """Names for the engine ids a set of awards or a rejection mentions, read in one query per kind."""

    def __init__(self, session: Session | None, keys: Iterable[str] = (), known: Mapping[str, str] | None = None) -> None:
        self.session = session
        self._names: dict[str, str] = dict(known or {})
        self.add(keys)

    def add(self, keys: Iterable[str]) -> Names:
        """Look up the names of more keys (recipients, payers, subjects)."""
        wanted: dict[str, set[int]] = {}
        if self.session is None:
            return self
        for key in keys:
            for part in _subject_keys(key):
                if part in self._names:
                    continue
                match = _KEY.fullmatch(part)
                if match and match.group(1) in SUBJECT_NAMERS:
                    wanted.setdefault(match.group(1), set()).add(int(match.group(2)))
        for prefix, ids in wanted.items():
            for number, name in SUBJECT_NAMERS[prefix](self.session, ids).items():
                self._names[f"{prefix}-{number}"] = name
        return self

    def __call__(self, key: str | None) -> str:
        """The name of one subject key (org-3, user-7, deal-5 …); an unknown one reads as "unknown"."""
        if not key:
            return ""
        if key in self._names:
            return self._names[key]
        return _("（已删除）") if _KEY.fullmatch(key) else key

    def payer(self, account: str | None) -> str:
        """A payer account in words: the provincial or a city's budget, or a transferor's proceeds."""
        if not account:
            return ""
        kind, _sep, subject = account.partition(":")
        if kind == "fiscal":
            if subject == "province":
                return _("省级财政")
            return _("%(city)s财政", city=_valley_city(self.session, subject))
        if kind == "proceeds":
            if subject == "transferor":
                return _("转让方的转化收益")
            return _("%(org)s的转化收益", org=self(subject))
        if kind == "receivable":
            return _("应收回款项：%(who)s", who=self(subject))
        return _("其他出资方")


def _subject_keys(key: str | None) -> list[str]:
    """The subject keys inside a key or a payer account (proceeds:org-3 → org-3)."""
    if not key:
        return []
    return [key.partition(":")[2] if ":" in key else key]


def _valley_city(session: Session | None, valley_id: str) -> str:
    """The city of a valley id in the user's language (the id itself when unknown)."""
    valley = session.get(Valley, valley_id) if session is not None else None
    return city_name(valley) if valley is not None else valley_id


# --- rejections --------------------------------------------------------------------------------------------------


def _money(params: Mapping, key: str) -> str:
    value = params.get(key)
    return format_yuan(value) if isinstance(value, int) else ""


def _subject(names: Names, params: Mapping) -> str:
    """The agreement or contract a payment rejection names."""
    return names(params.get("subject") or params.get("contract") or params.get("agreement"))


_REJECTIONS: dict[str, Callable[[Names, Mapping], str]] = {
    "payment_before_signing": lambda n, p: _("付款日期 %(paid)s 早于《%(what)s》的签约日期 %(signed)s，该笔不计奖补。",
                                             paid=p.get("paid_on", ""), what=_subject(n, p), signed=p.get("signed_on", ""))
    if p.get("signed_on") else _("付款日期早于签约日期，该笔不计奖补。"),
    "payment_above_value": lambda n, p: _(
        "本笔付款 %(amount)s 将使《%(what)s》的累计付款达到 %(total)s，超过其金额 %(value)s，该笔无效，不计奖补。",
        amount=_money(p, "amount_fen"), what=_subject(n, p), total=_money(p, "total_fen"), value=_money(p, "value_fen")),
    "unknown_agreement": lambda n, p: _("对应的预约采购协议尚未成立（未登记签约），该笔不计奖补。"),
    "unknown_contract": lambda n, p: _("对应的转化合同尚未成立（未完成登记），该笔不计奖补。"),
    "unknown_organisation": lambda n, p: _("%(org)s 未被政策规则识别，请联系平台管理员。", org=n(p.get("organisation"))),
    "same_buyer_and_seller": lambda n, p: _("采购方和供货方必须是不同的单位。"),
    "same_transferor_and_transferee": lambda n, p: _("转让方和受让方必须是不同的单位。"),
    "agreement_already_signed": lambda n, p: _("《%(what)s》已经登记签约；修改后的协议须作为新版本登记。",
                                               what=n(p.get("agreement"))),
    "contract_already_signed": lambda n, p: _("《%(what)s》的合同已经登记；修改后的合同须重新登记。",
                                              what=n(p.get("contract"))),
    "reward_rate_above_maximum": lambda n, p: _(
        "奖励比例 %(rate)s 超过规则 %(rule)s（%(version)s 版）在 %(day)s 规定的上限 %(max)s。",
        rate=format_rate(p.get("rate_bp", 0)), rule=p.get("rule", ""), version=p.get("version", ""),
        day=p.get("day", ""), max=format_rate(p.get("max_bp", 0))),
    "agent_is_intermediary": lambda n, p: _("%(agent)s 不能同时担任代理机构和中介服务人员。", agent=n(p.get("agent"))),
    "too_many_intermediaries": lambda n, p: _(
        "成果《%(what)s》的中介服务人员将达到 %(count)s 人（%(people)s），规则最多允许 %(max)s 人，除非有书面例外说明。",
        what=n(p.get("achievement")), count=p.get("count", ""), people="、".join(n(k) for k in p.get("people", ())),
        max=p.get("max", "")),
    "intermediary_shares_not_whole": lambda n, p: _("中介服务人员的分配比例合计须为 100%。"),
    "intermediary_listed_twice": lambda n, p: _("同一名中介服务人员被列了两次。"),
    "intermediary_share_out_of_range": lambda n, p: _("每名中介服务人员的分配比例须在 0.01% 至 100% 之间。"),
    "exception_not_written": lambda n, p: _("例外须写明书面理由。"),
    "grant_below_minimum": lambda n, p: _(
        "按规则 %(rule)s，%(org)s 的注册资本支持核定为 %(amount)s，低于最低支持额 %(minimum)s，不予支持。",
        rule=p.get("rule", ""), org=n(p.get("startup")), amount=_money(p, "amount_fen"), minimum=_money(p, "minimum_fen")),
    "amount_zero": lambda n, p: _("金额必须大于零。"),
    "amount_negative": lambda n, p: _("金额不能为负数。"),
    "amount_too_large": lambda n, p: _("金额超过允许的上限。"),
}
"""Each engine rejection code in words; a code without its own wording reads as an invalid event."""


def rejection_text(names: Names, code: str | None, params: Mapping | None) -> str:
    """An engine rejection in the user's language, naming what it is about by name."""
    params = params or {}
    names.add([params.get(key) for key in ("organisation", "agreement", "contract", "subject", "achievement", "agent",
                                           "startup") if isinstance(params.get(key), str)]
              + [key for key in params.get("people", ()) if isinstance(key, str)])
    word = _REJECTIONS.get(code or "")
    return word(names, params) if word else _("该事件不符合政策规则的要求，不计奖补。")


# --- caps, holds and stacking ------------------------------------------------------------------------------------


def describe_cap(rule: Rule | None, scope: str) -> str:
    """A cap of a rule in words with its amount from the rule set, e.g. "每个领取人每自然年上限 ¥10,000,000.00"."""
    try:
        cap_scope = CapScope(scope)
    except ValueError:
        return _("上限")
    if cap_scope.counts_grants:
        return _("一次性支持，每家初创企业仅限一次")
    cap = next((cap for cap in rule.caps if cap.scope is cap_scope), None) if rule else None
    if cap is None or cap.amount_fen is None:
        return _("%(scope)s上限", scope=CAP_SCOPE_DESCRIPTIONS[cap_scope])
    return _("%(scope)s上限 %(amount)s", scope=CAP_SCOPE_DESCRIPTIONS[cap_scope], amount=format_yuan(cap.amount_fen))


def explain_capped_by(rule: Rule | None, capped_by: str | None, granted_fen: int) -> str:
    """Why an award line was reduced, with the limit read from the rule set ("" when not reduced)."""
    if not capped_by:
        return ""
    if capped_by == "max_amount_fen":
        limit = format_yuan(rule.max_amount_fen) if rule and rule.max_amount_fen is not None else ""
        return _("受单个企业支持上限 %(limit)s 限制", limit=limit)
    if capped_by == "max_share_of_capital_bp":
        share = format_rate(rule.max_share_of_capital_bp) if rule and rule.max_share_of_capital_bp else ""
        return _("支持资金不得超过实缴资本（含本次支持）的 %(share)s，即不超过创始人自有实缴资金", share=share)
    reason = describe_cap(rule, capped_by)
    if granted_fen == 0:
        return _("%(cap)s，额度已用完", cap=reason)
    return _("受%(cap)s限制", cap=reason)


def explain_nil(rule: Rule | None, capped_by: str | None) -> str:
    """Why an award was granted nothing, naming the cap that made it 0 (e.g. "已达年度上限 …，本次核定为 0")."""
    if capped_by == "max_amount_fen":
        limit = format_yuan(rule.max_amount_fen) if rule and rule.max_amount_fen is not None else ""
        return _("受单个企业支持上限 %(limit)s 限制，本次核定为 0", limit=limit)
    if capped_by == "max_share_of_capital_bp":
        share = format_rate(rule.max_share_of_capital_bp) if rule and rule.max_share_of_capital_bp else ""
        return _("支持资金不得超过实缴资本（含本次支持）的 %(share)s，本次核定为 0", share=share)
    if capped_by == CapScope.ONE_TIME_PER_STARTUP:
        return _("该企业已获得过一次性注册资本支持（每家初创企业仅限一次），本次核定为 0")
    if capped_by:
        return _("已达%(cap)s，本次核定为 0", cap=describe_cap(rule, capped_by))
    return _("计算金额为 0，本次核定为 0")


def explain_held(rule: Rule | None, rule_id: str, version: str) -> str:
    """Why an award is held: its rule is not confirmed in the version in force on the award's date."""
    status = RULE_STATUS_LABELS.get(rule.status, rule.status) if rule else _("未确认")
    title = f"（{rule.title}）" if rule and rule.title else ""
    return _("规则 %(rule)s%(title)s在 %(version)s 版中为%(status)s：金额已计算，暂缓发放；规则确认后转为待审批。",
             rule=rule_id, title=title, version=version, status=status)


def explain_awaiting_verification() -> str:
    """Why an award is held although its rule is confirmed: the fact that earns it is not verified yet."""
    return _("金额已计算，暂缓发放：产生该奖补的技术合同登记或领取机构的认证尚待平台核验，核验通过后转为待审批。")


def explain_waived(winning_rule: str) -> str:
    """Why a line was waived under stacking: the recipient enjoys the rule that pays more."""
    return _("从优不重复：已按规则 %(rule)s 享受", rule=winning_rule)


def explain_award(rule: Rule | None, award: Award) -> str:
    """The note shown next to an award: held reason, cap explanation (the cap that made it 0), or the rule that won
    under stacking."""
    notes = []
    if award.status == AwardStatus.HELD:
        if award.hold_reason != HoldReason.AWAITING_VERIFICATION or rule is None or not rule.status.is_payable:
            notes.append(explain_held(rule, award.rule, award.rule_set_version))
        if award.hold_reason == HoldReason.AWAITING_VERIFICATION:
            notes.append(explain_awaiting_verification())
    if award.tops_up:
        notes.append(_("补差：规则 %(rule)s 已核定的金额之外，仅就高出部分计列", rule=award.tops_up))
    if award.status == AwardStatus.WAIVED and award.waived_by:
        notes.append(explain_waived(award.waived_by))
    if award.status == AwardStatus.NIL:
        return explain_nil(rule, award.capped_by)
    capped = explain_capped_by(rule, award.capped_by, award.granted_fen)
    if capped:
        notes.append(capped)
    return "；".join(notes)
