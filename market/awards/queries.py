"""Reads of the money books: awards filtered and totalled per valley and year, one user's awards per deal, the stored
rule sets, and the sentences that explain an award (why it is held, which cap reduced it)."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, cast, extract, func, or_, select
from sqlalchemy.orm import Session, aliased

from market.accounts.models import ApprovalStatus, Organisation, OrganisationKind, User
from market.achievements.models import Achievement
from market.awards import wording
from market.awards.labels import award_status_label
from market.awards.ledger import LedgerTransaction
from market.awards.models import Award, AwardStatus, StartupGrant, StoredRuleSet
from market.awards.permissions import recipient_keys_of
from market.deals.models import Deal
from market.demands.models import Demand
from market.money import format_rate, format_yuan
from market.policy.rules import (
    Rule,
    RuleSet,
    RuleSetError,
    RuleSetVersion,
    parse_rule_set,
)
from market.preorders.models import PreorderAgreement
from market.security import is_member_of
from market.taxonomy.models import Valley
from market.taxonomy.wording import valley_name

AWARDS_PER_PAGE = 50




DUE_STATUSES = (AwardStatus.PAYABLE, AwardStatus.APPROVED)
"""Awards the recipient is due (computed and payable, or approved and waiting for payout)."""

COUNTED_STATUSES = (AwardStatus.PAYABLE, AwardStatus.HELD, AwardStatus.APPROVED, AwardStatus.PAID)
"""Awards that count in totals: not waived by stacking and not reversed."""

_RECIPIENT_KEY = re.compile(r"(org|user)-[0-9]{1,12}", re.ASCII)


def fen_as_yuan(fen: int) -> Decimal:
    """Fen as an exact yuan Decimal with two places (123450 → Decimal("1234.50")), for exports."""
    return Decimal(fen).scaleb(-2)


# --- rule sets ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleCatalog:
    """Every stored rule-set version, to find the rule an award was computed under."""

    versions: Mapping[tuple[str, str], RuleSetVersion]

    def rule(self, rule_set: str, version: str, rule_id: str) -> Rule | None:
        """The rule of that id in that rule set's version, or None."""
        found = self.versions.get((rule_set, version))
        if found is None:
            return None
        return next((rule for rule in found.rules if rule.id == rule_id), None)

    def rule_of(self, award: Award) -> Rule | None:
        """The rule an award names."""
        return self.rule(award.rule_set, award.rule_set_version, award.rule)


def load_rule_catalog(session: Session) -> RuleCatalog:
    """Every version of every stored rule set (an active copy wins over an older one of the same label)."""
    versions: dict[tuple[str, str], RuleSetVersion] = {}
    rows = session.scalars(select(StoredRuleSet).order_by(StoredRuleSet.is_active, StoredRuleSet.id))
    for row in rows:
        try:
            rule_set = parse_rule_set(row.content, origin=row.name)
        except RuleSetError:
            continue
        for version in rule_set.versions:
            versions[(rule_set.name, version.version)] = version
    return RuleCatalog(versions)


@dataclass(frozen=True)
class StoredRuleSetView:
    """A stored rule-set copy with its parsed content (or the reason it cannot be read)."""

    row: StoredRuleSet
    rule_set: RuleSet | None
    problem: str = ""
    loaded_by: str = ""


def list_stored_rule_sets(session: Session) -> list[StoredRuleSetView]:
    """Every stored rule-set copy, active ones first, newest first."""
    views = []
    rows = session.execute(
        select(StoredRuleSet, User.name)
        .outerjoin(User, User.id == StoredRuleSet.loaded_by_id)
        .order_by(StoredRuleSet.is_active.desc(), StoredRuleSet.name, StoredRuleSet.id.desc())
    )
    for row, loaded_by in rows:
        try:
            views.append(StoredRuleSetView(row, parse_rule_set(row.content, origin=row.name), loaded_by=loaded_by or ""))
        except RuleSetError as error:
            views.append(StoredRuleSetView(row, None, str(error), loaded_by or ""))
    return views


def count_awards(session: Session, status: AwardStatus) -> int:
    """How many awards have a status."""
    return session.scalar(select(func.count()).select_from(Award).where(Award.status == status)) or 0


# --- explanations ------------------------------------------------------------------------------------------------


def explain_award(catalog: RuleCatalog, award: Award) -> str:
    """The note shown next to an award (held, capped, waived or granted nothing), worded by awards.wording."""
    return wording.explain_award(catalog.rule_of(award), award)


# --- awards with their source and valley -------------------------------------------------------------------------


@dataclass(frozen=True)
class AwardSource:
    """What an award was earned on: a deal, a pre-order agreement, a start-up grant (or another event)."""

    kind: str
    id: int
    title: str

    @property
    def key(self) -> tuple[str, int]:
        """An identity to group rows by."""
        return (self.kind, self.id)

    @property
    def label(self) -> str:
        """The source in words."""
        if self.kind == "deal":
            return _("转化项目：%(title)s", title=self.title)
        if self.kind == "agreement":
            return _("预约采购协议：%(title)s", title=self.title)
        if self.kind == "grant":
            return _("注册资本支持：%(title)s", title=self.title)
        return _("政策事件 %(id)s", id=self.id)


@dataclass(frozen=True)
class AwardRow:
    """An award with where it came from, its valley, its recipient's name and the note that explains it."""

    award: Award
    source: AwardSource
    valley_id: str | None
    recipient_label: str
    note: str
    reissued_as: int | None = None
    """The award that issues this reversed award's corrected amount, if one stands."""

    @property
    def status_label(self) -> str:
        """The award's status in words."""
        return award_status_label(self.award.status, self.award.hold_reason)


def _source_columns():
    """The aliased tables and the columns that give an award's source and valley."""
    seller = aliased(Organisation, name="seller_org")
    grantee = aliased(Organisation, name="grantee_org")
    valley = func.coalesce(Achievement.valley_id, Demand.valley_id, seller.valley_id, grantee.valley_id)
    return seller, grantee, valley


def _joined(statement, seller, grantee):
    """Outer-join an award select to its deal (achievement, demand), agreement (seller) and start-up grant."""
    return (
        statement.outerjoin(Deal, Deal.id == Award.deal_id)
        .outerjoin(Achievement, Achievement.id == Deal.achievement_id)
        .outerjoin(Demand, Demand.id == Deal.demand_id)
        .outerjoin(PreorderAgreement, PreorderAgreement.id == Award.agreement_id)
        .outerjoin(seller, seller.id == PreorderAgreement.seller_id)
        .outerjoin(StartupGrant, StartupGrant.policy_event_id == Award.policy_event_id)
        .outerjoin(grantee, grantee.id == StartupGrant.organisation_id)
    )


def _year_of(column):
    """The calendar year of a date column as an integer (SQLite and PostgreSQL)."""
    return cast(extract("year", column), Integer)


def _rows(session: Session, statement, catalog: RuleCatalog) -> list[AwardRow]:
    """Run an award select (award, valley, deal title, agreement number and product, grant id, grantee, grant date)."""
    results = session.execute(statement).all()
    labels = recipient_labels(session, {result[0].recipient for result in results})
    reversed_ids = [r[0].id for r in results if r[0].status in (AwardStatus.RECEIVABLE, AwardStatus.REVERSED)]
    reasons, reissues = _reversal_reasons(session, reversed_ids), _reissued_as(session, reversed_ids)
    rows = []
    for award, valley_id, deal_title, agreement_number, product, grant_id, grant_org, granted_on in results:
        if award.deal_id is not None:
            source = AwardSource("deal", award.deal_id, deal_title or "")
        elif award.agreement_id is not None:
            source = AwardSource("agreement", award.agreement_id, f"{agreement_number}（{product}）")
        elif grant_id is not None:
            source = AwardSource("grant", grant_id, f"{grant_org} {granted_on.isoformat()}")
        else:
            source = AwardSource("event", award.policy_event_id, "")
        note = explain_award(catalog, award)
        if award.id in reasons:
            note = "；".join(filter(None, [_("冲正原因：%(reason)s", reason=reasons[award.id]), note]))
        if award.reissues_id is not None:
            note = "；".join(filter(None, [_("更正自奖补 #%(id)s：%(reason)s", id=award.reissues_id,
                                             reason=award.reissue_reason or ""), note]))
        if award.id in reissues:
            note = "；".join(filter(None, [note, _("更正金额已作为奖补 #%(id)s 发放", id=reissues[award.id])]))
        if award.recovered_on is not None:
            note = "；".join(filter(None, [note, _("已于 %(day)s 追回（收款凭证号 %(ref)s）", day=award.recovered_on.isoformat(),
                                                   ref=award.recovery_reference)]))
        rows.append(AwardRow(award, source, valley_id, labels.get(award.recipient, award.recipient), note,
                             reissues.get(award.id)))
    return rows


def _reissued_as(session: Session, award_ids: list[int]) -> dict[int, int]:
    """The award that issues each reversed award's corrected amount, where one stands."""
    if not award_ids:
        return {}
    rows = session.execute(select(Award.reissues_id, Award.id).where(
        Award.reissues_id.in_(award_ids), Award.status.not_in((AwardStatus.RECEIVABLE, AwardStatus.REVERSED)))
        .order_by(Award.id))
    return {original: reissue for original, reissue in rows}


def _reversal_reasons(session: Session, award_ids: list[int]) -> dict[int, str]:
    """The reason written when each of these awards was reversed (a paid one: when it became receivable)."""
    if not award_ids:
        return {}
    rows = session.execute(select(LedgerTransaction.award_id, LedgerTransaction.memo)
                           .where(LedgerTransaction.award_id.in_(award_ids),
                                  LedgerTransaction.kind.in_(("reversal", "receivable")))
                           .order_by(LedgerTransaction.id))
    return {award_id: memo for award_id, memo in rows}


def _award_select(seller, grantee, valley):
    """The select of awards with their source columns (filters are added by the caller)."""
    statement = select(Award, valley, Deal.title, PreorderAgreement.number, PreorderAgreement.product,
                       StartupGrant.id, grantee.name, StartupGrant.granted_on).select_from(Award)
    return _joined(statement, seller, grantee)


def recipient_labels(session: Session, keys: Iterable[str]) -> dict[str, str]:
    """Names for recipient keys: org-<id> → the organisation's name, user-<id> → the person's name (organisation)."""
    keys = [key for key in keys if key]
    names = wording.Names(session, keys)
    return {key: names(key) for key in keys}


# --- the admin's award list ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AwardFilters:
    """What the admin's award list is narrowed to (empty = no filter)."""

    status: str = ""
    rule: str = ""
    valley: str = ""
    year: int | None = None
    recipient: str = ""


@dataclass(frozen=True)
class AwardPage:
    """One page of filtered awards."""

    rows: list[AwardRow]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class TotalsRow:
    """Granted amounts of one valley and year, by status."""

    valley_id: str | None
    valley_name: str
    year: int
    payable_fen: int = 0
    held_fen: int = 0
    approved_fen: int = 0
    paid_fen: int = 0

    @property
    def total_fen(self) -> int:
        """Everything granted and not reversed."""
        return self.payable_fen + self.held_fen + self.approved_fen + self.paid_fen


def _recipient_keys_matching(session: Session, text: str) -> list[str]:
    """Recipient keys a filter text names: an exact key (org-3, user-7) or part of a name or e-mail."""
    text = text.strip()
    if _RECIPIENT_KEY.fullmatch(text):
        return [text]
    orgs = session.scalars(select(Organisation.id).where(Organisation.name.icontains(text, autoescape=True)).limit(500))
    users = session.scalars(select(User.id).where(or_(User.name.icontains(text, autoescape=True),
                                                      User.email.icontains(text, autoescape=True))).limit(500))
    return [f"org-{org_id}" for org_id in orgs] + [f"user-{user_id}" for user_id in users]


def _filtered(session: Session, statement, filters: AwardFilters, valley):
    """Apply the filters to an award select that has the source joins."""
    if filters.status:
        statement = statement.where(Award.status == filters.status)
    if filters.rule:
        statement = statement.where(Award.rule == filters.rule)
    if filters.valley:
        statement = statement.where(valley == filters.valley)
    if filters.year:
        statement = statement.where(Award.event_date >= dt.date(filters.year, 1, 1),
                                    Award.event_date < dt.date(filters.year + 1, 1, 1))
    if filters.recipient:
        statement = statement.where(Award.recipient.in_(_recipient_keys_matching(session, filters.recipient)))
    return statement


def list_awards(session: Session, filters: AwardFilters, page: int = 1, per_page: int = AWARDS_PER_PAGE,
                catalog: RuleCatalog | None = None) -> AwardPage:
    """A page of awards matching the filters, newest event first."""
    seller, grantee, valley = _source_columns()
    counted = _filtered(session, _joined(select(func.count(Award.id)).select_from(Award), seller, grantee), filters, valley)
    total = session.scalar(counted) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    statement = _filtered(session, _award_select(seller, grantee, valley), filters, valley)
    statement = statement.order_by(Award.event_date.desc(), Award.id.desc()).limit(per_page).offset((page - 1) * per_page)
    rows = _rows(session, statement, catalog or load_rule_catalog(session))
    return AwardPage(rows, total, page, pages)


def award_totals(session: Session, filters: AwardFilters) -> list[TotalsRow]:
    """Granted amounts per valley and year (by status; waived and reversed awards left out) for the filtered awards."""
    seller, grantee, valley = _source_columns()
    year = _year_of(Award.event_date)
    statement = _joined(select(valley, year, Award.status, func.sum(Award.granted_fen)).select_from(Award), seller, grantee)
    statement = _filtered(session, statement, filters, valley).where(Award.status.in_(COUNTED_STATUSES))
    statement = statement.group_by(valley, year, Award.status)
    names = {valley.id: valley_name(valley) for valley in session.scalars(select(Valley))}
    sums: dict[tuple[str | None, int], dict[str, int]] = {}
    for valley_id, award_year, status, total in session.execute(statement):
        sums.setdefault((valley_id, int(award_year)), {})[status] = int(total or 0)
    rows = []
    for (valley_id, award_year), by_status in sums.items():
        rows.append(TotalsRow(valley_id, names.get(valley_id, _("未归属谷区")) if valley_id else _("未归属谷区"), award_year,
                              payable_fen=by_status.get(AwardStatus.PAYABLE, 0), held_fen=by_status.get(AwardStatus.HELD, 0),
                              approved_fen=by_status.get(AwardStatus.APPROVED, 0),
                              paid_fen=by_status.get(AwardStatus.PAID, 0)))
    return sorted(rows, key=lambda row: (-row.year, row.valley_id is None, row.valley_id or ""))


def sum_totals(rows: Sequence[TotalsRow]) -> TotalsRow:
    """The grand total of totals rows."""
    return TotalsRow(None, _("合计"), 0, payable_fen=sum(r.payable_fen for r in rows), held_fen=sum(r.held_fen for r in rows),
                     approved_fen=sum(r.approved_fen for r in rows), paid_fen=sum(r.paid_fen for r in rows))


def award_years(session: Session) -> list[int]:
    """The years awards fall in, newest first (for the filter)."""
    year = _year_of(Award.event_date)
    return [int(value) for value in session.scalars(select(year).distinct().order_by(year.desc())) if value is not None]


def award_rule_ids(session: Session) -> list[str]:
    """The rule ids awards were computed under (for the filter)."""
    return list(session.scalars(select(Award.rule).distinct().order_by(Award.rule)))


# --- one user's money ---------------------------------------------------------------------------------------------

@dataclass
class MoneyGroup:
    """The awards of one deal, agreement or grant, with what is due, held and paid."""

    source: AwardSource
    rows: list[AwardRow] = field(default_factory=list)
    due_fen: int = 0
    held_fen: int = 0
    paid_fen: int = 0

    def add(self, row: AwardRow) -> None:
        """Add a row and count its amount in its bucket."""
        self.rows.append(row)
        status = row.award.status
        if status in DUE_STATUSES:
            self.due_fen += row.award.granted_fen
        elif status == AwardStatus.HELD:
            self.held_fen += row.award.granted_fen
        elif status == AwardStatus.PAID:
            self.paid_fen += row.award.granted_fen


@dataclass
class MoneyOverview:
    """Awards grouped per deal/agreement/grant with totals."""

    groups: list[MoneyGroup]
    due_fen: int = 0
    held_fen: int = 0
    paid_fen: int = 0

    @property
    def rows(self) -> list[AwardRow]:
        """Every row, group by group."""
        return [row for group in self.groups for row in group.rows]


def _overview(rows: Sequence[AwardRow]) -> MoneyOverview:
    """Group rows by their source (in order of first appearance) and total them."""
    groups: dict[tuple[str, int], MoneyGroup] = {}
    for row in rows:
        groups.setdefault(row.source.key, MoneyGroup(row.source)).add(row)
    overview = MoneyOverview(list(groups.values()))
    for group in overview.groups:
        overview.due_fen += group.due_fen
        overview.held_fen += group.held_fen
        overview.paid_fen += group.paid_fen
    return overview


def list_user_money(session: Session, user: User, catalog: RuleCatalog | None = None) -> MoneyOverview:
    """The awards a user (and their receiving organisation) earned, grouped per deal, agreement or grant."""
    seller, grantee, valley = _source_columns()
    statement = (_award_select(seller, grantee, valley).where(Award.recipient.in_(recipient_keys_of(user)))
                 .order_by(Award.event_date, Award.id))
    return _overview(_rows(session, statement, catalog or load_rule_catalog(session)))


def list_rewards_paid_from_proceeds(session: Session, user: User, catalog: RuleCatalog | None = None) -> MoneyOverview:
    """For a transferor's member: the rewards paid from their organisation's conversion proceeds, per deal."""
    organisation_id = user.organisation_id
    if organisation_id is None or not is_member_of(user, organisation_id):
        return MoneyOverview([])
    seller, grantee, valley = _source_columns()
    statement = (_award_select(seller, grantee, valley).where(Award.payer == f"proceeds:org-{organisation_id}")
                 .order_by(Award.event_date, Award.id))
    return _overview(_rows(session, statement, catalog or load_rule_catalog(session)))


EXPORT_HEADER = (_l("来源"), _l("规则"), _l("事件日期"), _l("领取人"), _l("状态"), _l("计算金额（元）"),
                 _l("核定金额（元）"), _l("核定金额（分）"), _l("说明"))
"""Columns of the money export; yuan columns hold exact two-place decimals, the fen column an integer."""


def money_export_rows(overview: MoneyOverview) -> list[list[object]]:
    """The rows of the money export: a header, then one row per award (yuan as Decimal, fen as int)."""
    rows: list[list[object]] = [[str(title) for title in EXPORT_HEADER]]
    for row in overview.rows:
        award = row.award
        rows.append([row.source.label, award.rule, award.event_date.isoformat(), row.recipient_label, row.status_label,
                     fen_as_yuan(award.computed_fen), fen_as_yuan(award.granted_fen), award.granted_fen, row.note])
    return rows


# --- start-up grants ---------------------------------------------------------------------------------------------


def list_resident_enterprises(session: Session) -> list[tuple[Organisation, str]]:
    """Approved enterprises resident in a valley (who may get a start-up grant), with the valley's name."""
    rows = session.execute(
        select(Organisation, Valley.name).join(Valley, Valley.id == Organisation.valley_id)
        .where(Organisation.kind == OrganisationKind.ENTERPRISE, Organisation.status == ApprovalStatus.APPROVED,
               Organisation.resident_since.is_not(None))
        .order_by(Organisation.name)
    )
    return [(organisation, valley_name) for organisation, valley_name in rows]


@dataclass(frozen=True)
class GrantRow:
    """A recorded start-up grant with what the engine granted."""

    grant: StartupGrant
    organisation_name: str
    granted_fen: int
    status: str
    note: str


def list_recent_grants(session: Session, limit: int = 20, catalog: RuleCatalog | None = None) -> list[GrantRow]:
    """The latest start-up grants with their award lines."""
    catalog = catalog or load_rule_catalog(session)
    rows = session.execute(
        select(StartupGrant, Organisation.name, Award)
        .join(Organisation, Organisation.id == StartupGrant.organisation_id)
        .outerjoin(Award, Award.policy_event_id == StartupGrant.policy_event_id)
        .order_by(StartupGrant.id.desc()).limit(limit)
    )
    return [GrantRow(grant, name, award.granted_fen if award else 0, award.status if award else "",
                     explain_award(catalog, award) if award else "")
            for grant, name, award in rows]


def explain_startup_rejection(rule: Rule | None) -> str:
    """Why a start-up grant was refused: the limited amount falls below the rule's minimum."""
    if rule is None:
        return _("不予支持：支持日期没有生效的注册资本支持规则。")
    limits = []
    if rule.max_amount_fen is not None:
        limits.append(_("单个企业上限 %(amount)s", amount=format_yuan(rule.max_amount_fen)))
    if rule.max_share_of_capital_bp is not None:
        limits.append(_("实缴资本（含本次支持）的 %(share)s", share=format_rate(rule.max_share_of_capital_bp)))
    return _("不予支持：按规则 %(rule)s，支持金额取拟支持金额、%(limits)s 中的最小者，结果低于最低支持额 %(minimum)s。",
             rule=rule.id, limits="、".join(limits), minimum=format_yuan(rule.min_amount_fen or 0))
