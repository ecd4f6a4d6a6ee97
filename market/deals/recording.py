"""Shared steps of the deal services: input checks, links, the deal timeline and who is told."""
import logging
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from market.accounts.models import (
    ApprovalStatus,
    User,
)
from market.confirmations.models import OPEN_STATUSES, FactStatus
from market.deals.labels import STAGE_LABELS
from market.deals.models import (
    Bid,
    Deal,
    DealEvent,
    DealSigning,
    DealStage,
)
from market.deals.timeline import step_note
from market.errors import (
    PermissionDeniedError,
    ValidationError,
)
from market.inputs import FieldErrors, clean_whole_number
from market.money import MAX_FEN
from market.notifications.services import notify
from market.timeutil import today_in_china, utcnow

audit = logging.getLogger("market.audit")

def lock_deal(session: Session, deal: Deal) -> Deal:
    """Lock the deal's row so that writes on the same deal run one after another (on SQLite a write takes the
    database's write lock, as `awards.services.lock_books` does), then reload it."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(Deal).where(Deal.id == deal.id).values(updated_at=utcnow())
                        .execution_options(synchronize_session=False))
    else:
        session.execute(select(Deal.id).where(Deal.id == deal.id).with_for_update())
    session.refresh(deal)
    return deal


def today() -> date:
    """The current date as the deal services count it (the same clock the payment rules use)."""
    return today_in_china()


def require_approved(actor: User) -> None:
    """Refuse an actor who is not an approved member of an organisation."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_approved_member:
        raise PermissionDeniedError(_("您的机构成员身份尚未审核通过。"))


def member_ids(session: Session, organisation_id: int | None) -> list[int]:
    """Ids of the approved, active members of an organisation."""
    if organisation_id is None:
        return []
    return list(session.scalars(select(User.id).where(User.organisation_id == organisation_id,
                                                      User.membership_status == ApprovalStatus.APPROVED,
                                                      User.is_active_account.is_(True))))


def notify_all(session: Session, user_ids, actor: User, kind: str, title, link: str, body="") -> None:
    """Tell every listed user but the actor."""
    for user_id in sorted(set(user_ids) - {actor.id}):
        notify(session, user_id, kind, title, body=body, link=link)


def raise_if_errors(errors: FieldErrors) -> None:
    """Raise one ValidationError carrying every field message collected."""
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))


def clean_amount(errors: FieldErrors, name: str, value, *, required: bool) -> int | None:
    """A positive amount in integer fen (forms convert 万元 text to fen)."""
    return clean_whole_number(errors, name, value, low=1, high=MAX_FEN, invalid=_("金额必须大于零且不超过上限。"),
                              missing=_("请填写金额。") if required else None)


def open_deal(session: Session, actor: User, *, code: str, params: dict, **fields) -> Deal:
    """Open a deal in the intent stage with its first timeline event: the one way accepted bids, responses and
    introductions create deals."""
    deal = Deal(stage=DealStage.INTENT, **fields)
    session.add(deal)
    session.flush()
    session.add(DealEvent(deal_id=deal.id, actor_id=actor.id, action="opened", to_stage=DealStage.INTENT,
                          note_code=code, note_params=params))
    return deal


def bid_link(bid: Bid) -> str:
    """The page of a bid."""
    return f"/deals/bids/{bid.id}"


def deal_link(deal: Deal) -> str:
    """The page of a deal."""
    return f"/deals/{deal.id}"



def involved_user_ids(session: Session, deal: Deal) -> list[int]:
    """Everyone who follows a deal: both parties' members, its broker and intermediaries."""
    people = member_ids(session, deal.transferor_id) + member_ids(session, deal.transferee_id)
    people += [row.user_id for row in deal.intermediaries]
    if deal.broker_id:
        people.append(deal.broker_id)
    return people


def record_step(session: Session, deal: Deal, actor: User, action: str, previous: str | None = None, note: str = "",
                notify_title=None, notify_kind: str | None = None, *, code: str | None = None,
                params: dict | None = None) -> None:
    """Append a timeline event (what it says as a code and facts, what was typed as the note) and tell everyone
    involved except the actor (the kind defaults to "deal_" + action)."""
    deal.updated_at = utcnow()
    session.add(DealEvent(deal_id=deal.id, actor_id=actor.id, action=action, from_stage=previous,
                          to_stage=deal.stage, note=note, note_code=code, note_params=params))
    title = notify_title or _l("项目进展：%(t)s（%(s)s）", t=deal.title, s=STAGE_LABELS[DealStage(deal.stage)])
    notify_all(session, involved_user_ids(session, deal), actor, notify_kind or "deal_" + action, title, deal_link(deal),
               body=step_note(session, code, params, note))


def close_open_signings(session: Session, deal: Deal, actor: User, note: str) -> None:
    """Withdraw a signing still waiting for the transferee when the notice it followed ends (withdrawn notice,
    terminated deal): it can no longer be confirmed, and a new notice needs a new signing."""
    for signing in session.scalars(select(DealSigning).where(DealSigning.deal_id == deal.id,
                                                             DealSigning.status.in_(OPEN_STATUSES))):
        signing.status, signing.decided_at, signing.decided_by_id = FactStatus.WITHDRAWN, utcnow(), actor.id
        signing.decision_note = note
    session.flush()
    session.expire(deal, ["signings"])
