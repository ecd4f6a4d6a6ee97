"""Start-up capital grants (R4), recorded by admins and judged by the engine."""
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from market.accounts.models import Organisation, OrganisationKind, User
from market.awards import services as award_services
from market.awards.inputs import StartupGrantInput
from market.awards.models import Award, StartupGrant
from market.declared import validate_input
from market.errors import (
    NotFoundError,
    PermissionDeniedError,
    RuleViolationError,
    ValidationError,
)
from market.policy.events import StartupGrant as GrantEvent


def record_startup_grant(session: Session, actor: User, organisation_id: int, *, granted_on, founders_paid_in_fen,
                         awarded_fen) -> tuple[StartupGrant, list[Award]]:
    """Record a start-up capital grant for a startup selected into a valley; the engine caps it."""
    if not actor.is_admin:
        raise PermissionDeniedError(_("只有平台管理员可以登记注册资本支持。"))
    snapshot = award_services.lock_books(session)
    values, errors = validate_input(StartupGrantInput, {
        "organisation_id": organisation_id, "granted_on": granted_on, "founders_paid_in_fen": founders_paid_in_fen,
        "awarded_fen": awarded_fen})
    if "organisation_id" in values:
        organisation = session.get(Organisation, values["organisation_id"])
        if organisation is None or organisation.kind != OrganisationKind.ENTERPRISE:
            raise NotFoundError(_("企业不存在。"))
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))
    granted_on = values["granted_on"]
    event = GrantEvent(id=award_services.next_event_id(snapshot), date=granted_on, startup=award_services.org_key(organisation.id),
                       founders_paid_in_fen=founders_paid_in_fen, awarded_fen=awarded_fen)
    awards = award_services.apply_policy_event(session, snapshot, event, [organisation], actor=actor)
    if not awards:
        raise RuleViolationError(_("按现行规则，该企业在 %(d)s 不符合注册资本支持的条件（须已入驻谷区）。",
                                   d=granted_on.isoformat()))
    grant = StartupGrant(organisation_id=organisation.id, granted_on=granted_on, founders_paid_in_fen=founders_paid_in_fen,
                         awarded_fen=awarded_fen, policy_event_id=snapshot.last_event_id, recorded_by_id=actor.id)
    session.add(grant)
    session.flush()
    return grant, awards
