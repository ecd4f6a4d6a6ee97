"""Money rules in the live app: every signing, payment and grant is judged by the policy engine, one at a time.

Each money operation starts with `lock_books(session)`: it serialises money operations (a row lock on
PostgreSQL, the write lock on SQLite, both held until the request's unit of work commits or rolls back), so caps
and limits hold under concurrent requests. The engine's state is kept
in one row and updated in the same transaction as the payment, its awards and their ledger postings.
"""
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path

from flask import g, has_request_context
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from market.accounts.models import Organisation, User
from market.accounts.twofactor import require_second_factor
from market.awards import wording
from market.awards.caps import award_caps, award_rule
from market.awards.inputs import VOUCHER_PDF_MAX_BYTES, PayoutInput, RecoveryInput, ReversalInput
from market.awards.labels import award_status_label
from market.awards.ledger import LedgerTransaction, post_transaction, reverse_transaction
from market.awards.models import (
    Award,
    AwardStatus,
    HoldReason,
    PolicyEvent,
    PolicyStateSnapshot,
    StoredRuleSet,
)
from market.awards.permissions import may_read_awards_of
from market.declared import validate_input
from market.errors import NotFoundError, PermissionDeniedError, RuleViolationError, ValidationError
from market.policy import engine
from market.policy.events import EventType
from market.policy.events import Organisation as EngineOrganisation
from market.policy.rules import (
    OrganisationKind,
    RuleSet,
    RuleSetError,
    RuleSetVersion,
    parse_rule_set,
    parse_rule_set_toml,
    shipped_rule_set_paths,
)
from market.policy.snapshot import state_from_data, state_to_data
from market.timeutil import CHINA_OFFSET, utcnow
from market.unit_of_work import savepoint
from market.uploads import store_pdf

audit = logging.getLogger("market.audit")
SNAPSHOT_ID = 1
DEFAULT_RULES = shipped_rule_set_paths()[-1]
"""The newest shipped publication of the default rule set."""


STANDING_STATUSES = (AwardStatus.PAYABLE, AwardStatus.HELD, AwardStatus.APPROVED, AwardStatus.PAID)
"""Statuses of an award whose granted amount stands in the ledger and uses cap headroom."""


def _request_id() -> str:
    return g.get("request_id", "") if has_request_context() else ""


def ensure_books(session: Session) -> None:
    """Create the state row the money lock uses (idempotent)."""
    if session.get(PolicyStateSnapshot, SNAPSHOT_ID) is None:
        session.add(PolicyStateSnapshot(id=SNAPSHOT_ID, last_event_id=0, state=state_to_data(engine.PolicyState())))
        session.flush()


def lock_books(session: Session) -> PolicyStateSnapshot:
    """Take the money lock; call first in a money operation, then read what it depends on."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(PolicyStateSnapshot).where(PolicyStateSnapshot.id == SNAPSHOT_ID)
                        .values(updated_at=utcnow()))
    else:
        session.execute(select(PolicyStateSnapshot.id).where(PolicyStateSnapshot.id == SNAPSHOT_ID).with_for_update())
    session.expire_all()
    snapshot = session.get(PolicyStateSnapshot, SNAPSHOT_ID)
    if snapshot is None:
        raise RuntimeError("policy_state row missing: run `flask --app market seed`")
    return snapshot


def install_rule_set(session: Session, path: Path = DEFAULT_RULES, actor: User | None = None) -> StoredRuleSet:
    """Load a rule-set file into the database and release held awards a newly confirming version makes payable.

    Loading the same content again changes nothing. A file that edits an already stored version, or that puts a
    rule id in force twice on one day together with another active rule set, is refused.
    """
    if actor is not None and not actor.is_admin:
        raise PermissionDeniedError(_("只有平台管理员可以发布规则集。"))
    text = path.read_text(encoding="utf-8")
    try:
        rule_set = parse_rule_set_toml(text, origin=path.name)
    except RuleSetError as error:
        raise RuleViolationError(_("规则集文件无效：%(e)s", e=str(error))) from error
    content = _rule_set_content(text)
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    lock_books(session)
    stored = session.scalar(select(StoredRuleSet).where(StoredRuleSet.name == rule_set.name,
                                                        StoredRuleSet.digest == digest))
    if stored is not None and stored.is_active:
        return stored
    same_name = list(session.scalars(select(StoredRuleSet).where(StoredRuleSet.name == rule_set.name,
                                                                 StoredRuleSet.is_active.is_(True))))
    for older in same_name:
        _require_versions_kept(parse_rule_set(older.content, origin=older.name), rule_set)
    clashes = rule_id_clashes(active_rule_sets(session), rule_set)
    if clashes:
        raise RuleViolationError("；".join(clashes))
    for older in same_name:
        older.is_active = False
    if stored is None:
        stored = StoredRuleSet(name=rule_set.name, digest=digest, content=content,
                               loaded_by_id=actor.id if actor else None)
        session.add(stored)
    stored.is_active = True
    session.flush()
    _release_confirmed_awards(session, actor)
    session.flush()
    audit.info("rule set %s installed (%s)", rule_set.name, digest[:12])
    return stored


def _rule_set_content(text: str) -> dict:
    """The rule-set file's data as JSON-ready content (dates as ISO text), readable by parse_rule_set."""

    def plain(value):
        if isinstance(value, dict):
            return {str(key): plain(item) for key, item in value.items()}
        if isinstance(value, list):
            return [plain(item) for item in value]
        if isinstance(value, dt.date):
            return value.isoformat()
        return value

    return plain(tomllib.loads(text))


def _require_versions_kept(old: RuleSet, new: RuleSet) -> None:
    """A published version is immutable: the new file must keep every old version unchanged."""
    new_versions = {version.version: version for version in new.versions}
    for version in old.versions:
        if new_versions.get(version.version) != version:
            raise RuleViolationError(_("规则集版本 %(v)s 已经使用，不能修改；请新增一个版本。", v=version.version))


def active_rule_sets(session: Session) -> list[RuleSet]:
    """Every active rule set, parsed."""
    return [parse_rule_set(row.content, origin=row.name)
            for row in session.scalars(select(StoredRuleSet).where(StoredRuleSet.is_active.is_(True))
                                       .order_by(StoredRuleSet.id))]


def org_key(organisation_id: int) -> str:
    """The engine's id of an organisation."""
    return f"org-{organisation_id}"


def person_key(user_id: int) -> str:
    """The engine's id of a person."""
    return f"user-{user_id}"


def engine_organisation(organisation: Organisation, day: dt.date | None = None) -> EngineOrganisation:
    """An organisation as the engine sees it on a day: kind, and the valley residency that covered that day in its
    residency history (an organisation without history: its current valley and entry day)."""
    valley, since = (organisation.valley_id if organisation.resident_since else None), organisation.resident_since
    if organisation.residencies and day is not None:
        covering = [row for row in organisation.residencies if row.covers(day)]
        valley, since = (covering[-1].valley_id, covering[-1].since) if covering else (None, None)
    return EngineOrganisation(id=org_key(organisation.id), kind=OrganisationKind(organisation.kind),
                              valley=valley, resident_since=since)


def judged_on(state: engine.PolicyState, event) -> dt.date:
    """The day residency is judged for an event: the signing date of the contract or agreement a payment is made
    under (R1 and R3 judge on the signing date), else the event's own date."""
    contract = state.contracts.get(getattr(event, "contract", None) or "")
    if contract is not None and event.type is not EventType.TRANSFER_SIGNED:
        return contract.signed_on
    agreement = state.agreements.get(getattr(event, "agreement", None) or "")
    if agreement is not None and event.type is not EventType.PREORDER_SIGNED:
        return agreement.signed_on
    return event.date


def apply_policy_event(session: Session, snapshot: PolicyStateSnapshot, event, organisations: list[Organisation], *,
                       actor: User | None, deal_id: int | None = None, agreement_id: int | None = None) -> list[Award]:
    """Judge an event under the lock, store it with its awards and ledger postings, and advance the state.

    The caller holds the lock (lock_books) and has validated the event with user-facing messages; the unit of work
    commits.
    """
    state = state_from_data(snapshot.state)
    day = judged_on(state, event)
    outcome = engine.apply_event(active_rule_sets(session),
                                 {org_key(o.id): engine_organisation(o, day) for o in organisations}, state, event)
    if outcome.is_rejected:
        reason = wording.rejection_text(wording.Names(session), outcome.rejection_code, outcome.rejection_params)
        raise RuleViolationError(_("政策规则不允许此操作：%(reason)s", reason=reason))
    record = PolicyEvent(event_type=event.type.value, happened_on=event.date, payload=_payload(event),
                         request_id=_request_id(), recorded_by_id=actor.id if actor else None)
    session.add(record)
    session.flush()
    awards = [store_award_line(session, record, award, event.date, actor, deal_id, agreement_id) for award in outcome.awards]
    snapshot.state, snapshot.last_event_id, snapshot.updated_at = state_to_data(outcome.state), record.id, utcnow()
    audit.info("policy event %s type=%s awards=%s", record.id, record.event_type,
               [(a.rule, a.recipient, a.granted_fen, a.status) for a in awards])
    return awards


def next_event_id(snapshot: PolicyStateSnapshot) -> str:
    """An id for the next engine event (unique because events are applied one at a time)."""
    return f"ev{snapshot.last_event_id + 1}"


def _payload(event) -> dict:
    data = dataclasses.asdict(event)
    data["type"] = event.type.value
    return json.loads(json.dumps(data, default=lambda value: value.isoformat() if isinstance(value, dt.date) else str(value)))


def stored_status(status: AwardStatus, granted_fen: int) -> AwardStatus:
    """The status an award line is kept in: a line granted nothing is final (nil) instead of waiting for approval."""
    if granted_fen == 0 and status in (AwardStatus.PAYABLE, AwardStatus.HELD):
        return AwardStatus.NIL
    return status


VERIFICATION_CHECKS: list[Callable[[Session, Award], bool]] = []
"""Checks the features that earn awards add: each says whether the fact earning an award still awaits verification."""


def add_verification_check(check: Callable[[Session, Award], bool]) -> Callable[[Session, Award], bool]:
    """Register a check that holds awards whose earning fact is not verified yet (used as a decorator)."""
    VERIFICATION_CHECKS.append(check)
    return check


@add_verification_check
def recipient_unverified(session: Session, award: Award) -> bool:
    """An award to an organisation that is not verified waits for its verification."""
    if not award.recipient.startswith("org-"):
        return False
    organisation = session.get(Organisation, int(award.recipient.removeprefix("org-")))
    return organisation is not None and not organisation.is_verified


def awaits_verification(session: Session, award: Award) -> bool:
    """Whether any fact the award depends on is not verified yet."""
    return any(check(session, award) for check in VERIFICATION_CHECKS)


def store_award_line(session: Session, record: PolicyEvent, line: engine.Award, day: dt.date, actor: User | None,
                 deal_id: int | None, agreement_id: int | None) -> Award:
    award = Award(policy_event_id=record.id, rule=line.rule, rule_kind=line.kind.value if line.kind else "",
                  rule_set=line.rule_set, rule_set_version=line.version, recipient=line.recipient, payer=line.payer,
                  computed_fen=line.computed_fen, granted_fen=line.granted_fen,
                  status=stored_status(AwardStatus(line.status.value), line.granted_fen),
                  capped_by=line.capped_by, waived_by=line.waived_by, tops_up=line.tops_up, event_date=day, deal_id=deal_id,
                  agreement_id=agreement_id)
    if award.status == AwardStatus.HELD:
        award.hold_reason = HoldReason.DRAFT_RULE
    if award.status in (AwardStatus.PAYABLE, AwardStatus.HELD) and awaits_verification(session, award):
        award.status, award.hold_reason = AwardStatus.HELD, HoldReason.AWAITING_VERIFICATION
    session.add(award)
    session.flush()
    if award.granted_fen and award.status in (AwardStatus.PAYABLE, AwardStatus.HELD):
        target = "awarded" if award.status == AwardStatus.PAYABLE else "held"
        post_transaction(session, "award", [(award.payer, -award.granted_fen), (f"{target}:{award.recipient}", award.granted_fen)],
                         memo=f"{award.rule} {record.event_type}", award_id=award.id,
                         actor_id=actor.id if actor else None, request_id=_request_id())
    return award


def _release(session: Session, award: Award, actor: User | None, memo: str) -> None:
    """A held award becomes payable: held → awarded."""
    award.status, award.hold_reason = stored_status(AwardStatus.PAYABLE, award.granted_fen), None
    if award.granted_fen:
        post_transaction(session, "release", [(f"held:{award.recipient}", -award.granted_fen),
                                              (f"awarded:{award.recipient}", award.granted_fen)],
                         memo=memo, award_id=award.id, actor_id=actor.id if actor else None,
                         request_id=_request_id())
    audit.info("held award %s released (%s)", award.id, memo)


def _release_confirmed_awards(session: Session, actor: User | None) -> None:
    """Held awards whose rule is now confirmed for their date become payable (held → awarded); awards awaiting
    verification stay held until it."""
    rule_sets = active_rule_sets(session)
    for award in session.scalars(select(Award).where(Award.status == AwardStatus.HELD)):
        if award.hold_reason == HoldReason.AWAITING_VERIFICATION:
            continue
        entry = engine.find_rule(rule_sets, award.rule, award.event_date)
        if entry is None or not entry.rule.status.is_payable:
            continue
        _release(session, award, actor, f"{award.rule} confirmed")


def release_verified_awards(session: Session, actor: User | None, awards: Sequence[Award]) -> list[Award]:
    """Under the caller's lock: the given awards held awaiting verification whose facts are now all verified become
    payable (or wait on as draft-rule holds when their rule is still a draft); returns those released."""
    rule_sets = active_rule_sets(session)
    released = []
    for award in awards:
        if (award.status != AwardStatus.HELD or award.hold_reason != HoldReason.AWAITING_VERIFICATION
                or awaits_verification(session, award)):
            continue
        entry = engine.find_rule(rule_sets, award.rule, award.event_date)
        if entry is not None and not entry.rule.status.is_payable:
            award.hold_reason = HoldReason.DRAFT_RULE
            continue
        _release(session, award, actor, f"{award.rule} verified")
        released.append(award)
    session.flush()
    return released


def awards_awaiting_verification(session: Session, *, deal_id: int | None = None,
                                 recipient: str | None = None) -> list[Award]:
    """Awards held awaiting verification, of one deal or one recipient."""
    query = select(Award).where(Award.status == AwardStatus.HELD,
                                Award.hold_reason == HoldReason.AWAITING_VERIFICATION).order_by(Award.id)
    if deal_id is not None:
        query = query.where(Award.deal_id == deal_id)
    if recipient is not None:
        query = query.where(Award.recipient == recipient)
    return list(session.scalars(query))


def get_award(session: Session, award_id: int) -> Award:
    """An award, or NotFoundError."""
    award = session.get(Award, award_id)
    if award is None:
        raise NotFoundError(_("奖补记录不存在。"))
    return award


APPROVAL_CHECKS: list[Callable[[Session, Award], str | None]] = []
"""Checks the features that earn awards add: each returns why an award may not be approved yet, or None."""


def add_approval_check(check: Callable[[Session, Award], str | None]) -> Callable[[Session, Award], str | None]:
    """Register a check approve_award runs (used as a decorator by the modules whose facts earn awards)."""
    APPROVAL_CHECKS.append(check)
    return check


def approve_award(session: Session, actor: User, award_id: int) -> Award:
    """Admin approves a payable award: awarded → entitled."""
    require_money_admin(actor)
    require_second_factor(actor)
    lock_books(session)
    award = get_award(session, award_id)
    if award.status != AwardStatus.PAYABLE:
        raise RuleViolationError(_("只有待审批的奖补可以审批（当前：%(s)s）。",
                                   s=award_status_label(award.status, award.hold_reason)))
    for check in APPROVAL_CHECKS:
        reason = check(session, award)
        if reason:
            raise RuleViolationError(reason)
    award.status, award.approved_at, award.approved_by_id = AwardStatus.APPROVED, utcnow(), actor.id
    if award.granted_fen:
        post_transaction(session, "approval", [(f"awarded:{award.recipient}", -award.granted_fen),
                                               (f"entitled:{award.recipient}", award.granted_fen)],
                         award_id=award.id, actor_id=actor.id, request_id=_request_id())
    session.flush()
    audit.info("award %s approved by admin_id=%s", award.id, actor.id)
    return award


def approve_awards(session: Session, actor: User, award_ids: list[int]) -> tuple[list[Award], list[tuple[int, str]]]:
    """Approve each award in its own savepoint: a refused one is undone alone and listed with its reason, the
    others stay approved for the one commit."""
    require_money_admin(actor)
    lock_books(session)
    approved, refused = [], []
    for award_id in award_ids:
        try:
            with savepoint(session):
                approved.append(approve_award(session, actor, award_id))
        except (RuleViolationError, NotFoundError) as error:
            refused.append((award_id, error.message))
    return approved, refused


def pay_award(session: Session, actor: User, award_id: int, *, voucher_reference, paid_on, filename: str | None = None,
              stream=None, upload_folder: str | None = None) -> Award:
    """Admin records the payout of an approved award with its voucher (reference, date, optional PDF):
    entitled → paid."""
    require_money_admin(actor)
    require_second_factor(actor)
    values, errors = validate_input(PayoutInput, {"voucher_reference": voucher_reference, "paid_on": paid_on})
    lock_books(session)
    award = get_award(session, award_id)
    if award.status != AwardStatus.APPROVED:
        raise RuleViolationError(_("只有已审批的奖补可以登记发放。"))
    approved_on = (award.approved_at + CHINA_OFFSET).date() if award.approved_at else None
    if values.get("paid_on") and approved_on and values["paid_on"] < approved_on:
        errors.add("paid_on", _("发放日期不能早于审批日期 %(day)s。", day=approved_on.isoformat()))
    has_file = stream is not None and bool(filename)
    if has_file and not upload_folder:
        raise RuntimeError("pay_award needs the upload folder to store a voucher PDF")
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))
    if has_file:
        stored = store_pdf(session, filename=filename, stream=stream, upload_folder=upload_folder,
                           max_bytes=VOUCHER_PDF_MAX_BYTES, field="voucher", default_name="voucher.pdf")
        award.voucher_stored_name, award.voucher_original_name = stored.stored_name, stored.original_name
    award.status, award.paid_at = AwardStatus.PAID, utcnow()
    award.voucher_reference, award.paid_on = values["voucher_reference"], values["paid_on"]
    if award.granted_fen:
        post_transaction(session, "payout", [(f"entitled:{award.recipient}", -award.granted_fen),
                                             (f"paid:{award.recipient}", award.granted_fen)],
                         memo=_voucher_memo(award), award_id=award.id, actor_id=actor.id, request_id=_request_id())
    session.flush()
    audit.info("award %s paid by admin_id=%s voucher=%s", award.id, actor.id, award.voucher_reference)
    return award


def record_recovery(session: Session, actor: User, award_id: int, *, voucher_reference, recovered_on) -> Award:
    """Admin records that a reversed payout came back (its bank voucher and date): receivable → reversed."""
    require_money_admin(actor)
    require_second_factor(actor)
    values, errors = validate_input(RecoveryInput, {"voucher_reference": voucher_reference,
                                                    "recovered_on": recovered_on})
    lock_books(session)
    award = get_award(session, award_id)
    if award.status != AwardStatus.RECEIVABLE:
        raise RuleViolationError(_("只有已发放后冲正、待追回的奖补可以登记追回。"))
    day = values.get("recovered_on")
    if day is not None and award.paid_on is not None and day < award.paid_on:
        errors.add("recovered_on", _("追回日期不能早于发放日期 %(day)s。", day=award.paid_on.isoformat()))
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))
    award.recovery_reference, award.recovered_on = values["voucher_reference"], day
    post_transaction(session, "recovery", [(f"receivable:{award.recipient}", -award.granted_fen),
                                           (award.payer, award.granted_fen)],
                     memo=f"voucher {award.recovery_reference} {day.isoformat()}", award_id=award.id,
                     actor_id=actor.id, request_id=_request_id())
    award.status = AwardStatus.REVERSED
    session.flush()
    audit.info("award %s recovered by admin_id=%s voucher=%s", award.id, actor.id, award.recovery_reference)
    return award


def _voucher_memo(award: Award) -> str:
    """The payout posting's memo: the voucher reference and the payout date."""
    return f"voucher {award.voucher_reference} {award.paid_on.isoformat()}"


def get_voucher(session: Session, actor: User | None, award_id: int) -> Award:
    """A paid award whose voucher PDF the actor may download (admins and the award's recipient), or NotFoundError."""
    award = session.get(Award, award_id)
    if (award is None or not award.voucher_stored_name or actor is None or not actor.is_authenticated
            or not may_read_awards_of(actor, award.recipient)):
        raise NotFoundError(_("文件不存在。"))
    return award


def reverse_award(session: Session, actor: User, award_id: int, reason: str) -> Award:
    """Admin corrects an award: its postings are reversed, never edited, and its cap headroom is given back; a paid
    one becomes a receivable from its recipient until the money is recovered (settled question 2)."""
    require_money_admin(actor)
    values, errors = validate_input(ReversalInput, {"reason": reason})
    if errors:
        raise ValidationError(errors["reason"], dict(errors))
    snapshot = lock_books(session)
    award = get_award(session, award_id)
    if award.status in (AwardStatus.RECEIVABLE, AwardStatus.REVERSED, AwardStatus.WAIVED):
        raise RuleViolationError(_("该奖补不能冲正（当前：%(s)s）。", s=award_status_label(award.status)))
    cancel_award(session, snapshot, award, actor, values["reason"])
    audit.info("award %s reversed by admin_id=%s into %s", award.id, actor.id, award.status)
    return award


def cancel_award(session: Session, snapshot: PolicyStateSnapshot, award: Award, actor: User | None, memo: str) -> None:
    """Under the caller's lock: reverse an award's postings (a paid one's payout stays and its amount becomes
    receivable from the recipient) and give its cap headroom back in the engine state (the caller has checked the
    award may be reversed)."""
    charged = award.granted_fen and award.status not in (AwardStatus.NIL, AwardStatus.WAIVED, AwardStatus.REVERSED,
                                                         AwardStatus.RECEIVABLE)
    if award.status == AwardStatus.PAID:
        post_transaction(session, "receivable", [(f"paid:{award.recipient}", -award.granted_fen),
                                                 (f"receivable:{award.recipient}", award.granted_fen)],
                         memo=memo, award_id=award.id, actor_id=actor.id if actor else None,
                         request_id=_request_id())
        award.status = AwardStatus.RECEIVABLE
    else:
        _reverse_postings(session, award, actor, memo)
        award.status = AwardStatus.REVERSED
    award.hold_reason = None
    session.flush()
    if charged:
        _return_headroom(session, snapshot, award)


def _reverse_postings(session: Session, award: Award, actor: User | None, memo: str) -> None:
    """Mirror every posting of an award that is not mirrored yet."""
    reversed_ids = set(session.scalars(select(LedgerTransaction.reverses_id).where(LedgerTransaction.award_id == award.id)))
    for transaction in session.scalars(select(LedgerTransaction).where(LedgerTransaction.award_id == award.id,
                                                                      LedgerTransaction.reverses_id.is_(None))
                                       .order_by(LedgerTransaction.id.desc())):
        if transaction.id not in reversed_ids:
            reverse_transaction(session, transaction, memo=memo, actor_id=actor.id if actor else None,
                                request_id=_request_id())


def reverse_event_awards(session: Session, actor: User, policy_event_id: int, reason: str) -> None:
    """Reverse every standing award of a policy event whose earning fact was taken back (paid ones into receivables)."""
    for award in session.scalars(select(Award).where(Award.policy_event_id == policy_event_id).order_by(Award.id)):
        if award.status not in (AwardStatus.RECEIVABLE, AwardStatus.REVERSED, AwardStatus.WAIVED):
            reverse_award(session, actor, award.id, reason)


def charged_caps(session: Session, state: engine.PolicyState, award: Award) -> list:
    """The caps an award's rule charges for it, each with its key in the engine state (none for an uncapped rule)."""
    rule = award_rule(active_rule_sets(session), award)
    if rule is None or not rule.caps:
        return []
    payload = award.policy_event.payload if isinstance(award.policy_event.payload, dict) else {}

    def achievement_of(contract: str) -> str:
        record = state.contracts.get(contract)
        return record.achievement if record is not None else contract

    return award_caps(rule, award, payload, achievement_of)


def other_line_stands(session: Session, award: Award) -> bool:
    """Whether another line of the award's event and rule still stands with a grant (the claim's grant is counted)."""
    return session.scalar(select(Award.id).where(
        Award.policy_event_id == award.policy_event_id, Award.rule == award.rule, Award.id != award.id,
        Award.granted_fen > 0, Award.status.in_(STANDING_STATUSES)).limit(1)) is not None


def _return_headroom(session: Session, snapshot: PolicyStateSnapshot, award: Award) -> None:
    """Take a reversed award's granted amount off every cap key its rule charged (a key's grant count drops when no
    other standing line of the same event and rule is left on it)."""
    state = state_from_data(snapshot.state)
    caps = charged_caps(session, state, award)
    if not caps:
        return
    siblings_stand = other_line_stands(session, award)
    usage = dict(state.cap_usage)
    for _cap, key in caps:
        before = usage.get(key, engine.CapUsage())
        after = engine.CapUsage(before.granted_fen - award.granted_fen,
                                before.grants - (0 if siblings_stand else 1))
        if after.granted_fen < 0 or after.grants < 0:
            audit.warning("award %s: cap %s would go below zero; kept at zero", award.id, key)
            after = engine.CapUsage(max(after.granted_fen, 0), max(after.grants, 0))
        if after == engine.CapUsage():
            usage.pop(key, None)
        else:
            usage[key] = after
    snapshot.state = state_to_data(dataclasses.replace(state, cap_usage=usage))
    snapshot.updated_at = utcnow()
    session.flush()
    audit.info("award %s gave back %s fen of cap headroom", award.id, award.granted_fen)


def require_money_admin(actor: User) -> None:
    """Refuse anyone but a platform admin."""
    if actor is None or not actor.is_admin:
        raise PermissionDeniedError(_("只有平台管理员可以操作奖补。"))


def rule_id_clashes(active: Sequence[RuleSet], candidate: RuleSet) -> list[str]:
    """Rule ids the candidate would put in force on the same day as another active rule set (which the engine
    refuses); a rule set of the same name is replaced by the candidate and is not compared."""
    clashes = []
    for other in active:
        if other.name == candidate.name:
            continue
        for mine in candidate.versions:
            for theirs in other.versions:
                if not _windows_overlap(mine, theirs):
                    continue
                shared = sorted({r.id for r in mine.rules} & {r.id for r in theirs.rules})
                for rule_id in shared:
                    clashes.append(_("规则编号 %(rule)s 同时出现在规则集 %(a)s（%(va)s 版）和 %(b)s（%(vb)s 版）中且生效期重叠，"
                                     "请改用不同的规则编号。", rule=rule_id, a=candidate.name, va=mine.version,
                                     b=other.name, vb=theirs.version))
    return clashes


def _windows_overlap(first: RuleSetVersion, second: RuleSetVersion) -> bool:
    """True when two versions are in force on at least one common day."""
    first_ends = first.effective_to or dt.date.max
    second_ends = second.effective_to or dt.date.max
    return first.effective_from <= second_ends and second.effective_from <= first_ends
