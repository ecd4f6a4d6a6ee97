"""The rules every confirmable fact follows: who may confirm, dispute, withdraw or settle it, from the table."""
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from market.accounts.models import User
from market.confirmations.evidence import check_admin_evidence
from market.confirmations.inputs import DecisionInput
from market.confirmations.models import OPEN_STATUSES, STATUS_LABELS, FactStatus
from market.confirmations.table import FACT_BY_KIND, FactKind, FactRole
from market.declared import validate_input
from market.errors import InvalidStateError, PermissionDeniedError, ValidationError
from market.timeutil import utcnow

ROLE_NAMES = {
    FactRole.TRANSFEROR: _l("成果转让方"), FactRole.TRANSFEREE: _l("成果受让方"), FactRole.BUYER: _l("采购方"),
    FactRole.SELLER: _l("供货方"), FactRole.BROKER: _l("技术经理人"), FactRole.ORGANISATION: _l("机构"),
    FactRole.ADMIN: _l("平台运营人员"),
}


def role_name(role: FactRole) -> str:
    """A role in the user's language."""
    return str(ROLE_NAMES[role])


def recording_role(kind: FactKind, roles: set[FactRole]) -> FactRole | None:
    """The role the actor records the fact in (the table's first that the actor holds), or None."""
    return next((role for role in FACT_BY_KIND[kind].confirmed_by if role in roles), None)


def require_recording_role(kind: FactKind, roles: set[FactRole], refusal: str) -> FactRole:
    """The actor's recording role, or PermissionDeniedError with the caller's message."""
    role = recording_role(kind, roles)
    if role is None:
        raise PermissionDeniedError(refusal)
    return role


def confirmers(kind: FactKind, record) -> frozenset[FactRole]:
    """Who may confirm the record: the table's confirmers of its recorder; only an admin for a disputed record or
    one recorded before confirmations existed."""
    if record.status == FactStatus.DISPUTED or record.recorded_as is None:
        return frozenset({FactRole.ADMIN})
    return FACT_BY_KIND[kind].confirmed_by.get(FactRole(record.recorded_as), frozenset())


def _require_open(record) -> None:
    if record.status not in OPEN_STATUSES:
        raise InvalidStateError(_("该记录已处理（%(s)s），不能再操作。", s=_status_text(record.status)))


def _status_text(status: str) -> str:
    return str(STATUS_LABELS[FactStatus(status)])


def check_may_confirm(kind: FactKind, record, actor: User, roles: set[FactRole], *, beneficiary: bool) -> None:
    """Refuse a confirmation by the recorder, by a beneficiary of what the fact earns, by someone the table does not
    name, or by an admin (confirming alone) without the fact's evidence."""
    _require_open(record)
    if record.recorded_by_id == actor.id:
        raise PermissionDeniedError(_("不能确认自己登记的记录，须由另一方确认。"))
    if beneficiary:
        raise PermissionDeniedError(_("您是该记录所产生奖励的受益人，不能确认它。"))
    allowed = confirmers(kind, record)
    if not allowed & roles:
        raise PermissionDeniedError(_("该记录须由%(who)s确认。", who=_("、").join(role_name(r) for r in sorted(allowed))))
    if allowed & roles == {FactRole.ADMIN}:
        check_admin_evidence(kind, record)


def check_may_dispute(kind: FactKind, record, actor: User, roles: set[FactRole]) -> None:
    """Only someone who could confirm a recorded (not yet disputed) fact may dispute it."""
    _require_open(record)
    if record.status == FactStatus.DISPUTED:
        raise InvalidStateError(_("该记录已有异议，等待平台运营人员处理。"))
    if record.recorded_by_id == actor.id or not confirmers(kind, record) & roles:
        raise PermissionDeniedError(_("只有须确认该记录的一方可以提出异议。"))


def required_reason(reason) -> str:
    """A reason a dispute or refusal must give."""
    values, errors = validate_input(DecisionInput, {"reason": reason})
    if errors or not values.get("reason"):
        message = errors.get("reason") or _("请说明理由。")
        raise ValidationError(message, {"reason": message})
    return values["reason"]


def optional_note(note) -> str:
    """A note a confirmation may carry (same limits as a reason)."""
    values, errors = validate_input(DecisionInput, {"reason": note})
    if errors:
        raise ValidationError(errors["reason"], {"reason": errors["reason"]})
    return values.get("reason") or ""


def _decide(record, actor: User, status: FactStatus, note: str = "") -> None:
    record.status, record.decided_at, record.decided_by_id = status, utcnow(), actor.id
    if note:
        record.decision_note = note


def confirm(kind: FactKind, record, actor: User, roles: set[FactRole], *, beneficiary: bool, note: str = "") -> None:
    """Mark the record confirmed after the checks; the caller applies what the fact earns."""
    check_may_confirm(kind, record, actor, roles, beneficiary=beneficiary)
    _decide(record, actor, FactStatus.CONFIRMED, note)


def dispute(kind: FactKind, record, actor: User, roles: set[FactRole], reason) -> None:
    """The other side says the fact is wrong; an admin settles it."""
    check_may_dispute(kind, record, actor, roles)
    record.dispute_reason = required_reason(reason)
    record.status = FactStatus.DISPUTED


def withdraw(record, actor: User) -> None:
    """The recorder takes back a fact nobody has confirmed."""
    _require_open(record)
    if record.recorded_by_id != actor.id:
        raise PermissionDeniedError(_("只有登记人可以撤回该记录。"))
    _decide(record, actor, FactStatus.WITHDRAWN)


def refuse(record, actor: User, roles: set[FactRole], reason) -> None:
    """An admin settles an open fact as wrong, with the reason everyone sees."""
    _require_open(record)
    if FactRole.ADMIN not in roles:
        raise PermissionDeniedError(_("只有平台运营人员可以驳回记录。"))
    _decide(record, actor, FactStatus.REFUSED, required_reason(reason))


@dataclass(frozen=True)
class DecisionChoices:
    """The decisions a page offers one person on one record."""

    confirm: bool = False
    dispute: bool = False
    withdraw: bool = False
    refuse: bool = False

    @property
    def any(self) -> bool:
        """Whether any decision is open to the person."""
        return self.confirm or self.dispute or self.withdraw or self.refuse


def _allowed(check, *args, **kwargs) -> bool:
    try:
        check(*args, **kwargs)
    except (PermissionDeniedError, InvalidStateError):
        return False
    return True


def decision_choices(kind: FactKind, record, actor: User | None, roles: set[FactRole], *, beneficiary: bool,
                     may_withdraw: bool = True) -> DecisionChoices:
    """What the person may decide on the record now (the services check the same again)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or record.status not in OPEN_STATUSES:
        return DecisionChoices()
    return DecisionChoices(
        confirm=_allowed(check_may_confirm, kind, record, actor, roles, beneficiary=beneficiary),
        dispute=_allowed(check_may_dispute, kind, record, actor, roles),
        withdraw=may_withdraw and record.recorded_by_id == actor.id,
        refuse=FactRole.ADMIN in roles,
    )
