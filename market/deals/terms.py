"""Consent to a deal's terms: every change makes a new version, which the transferor, the transferee and each named
intermediary (for his share) accept before the notice may start; from the notice until signing the terms are locked."""
import logging

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from market.accounts.models import User
from market.deals.labels import TERMS_ROLE_LABELS
from market.deals.models import Deal, DealStage, DealTermsConsent, TermsRole
from market.deals.permissions import TermsSeat, missing_terms_seats, seats_held, terms_locked, terms_seats
from market.errors import InvalidStateError

audit = logging.getLogger("market.audit")


def refuse_if_locked(deal: Deal) -> None:
    """Refuse a change of terms from the notice until signing."""
    if not terms_locked(deal):
        return
    if deal.stage == DealStage.NOTICE:
        raise InvalidStateError(_("公示后交易条件已锁定；如需修改，请由一方撤回公示，修改并经各方确认后重新公示。"))
    raise InvalidStateError(_("公示后交易条件已锁定，签约后不能再修改。"))


def seat_name(session: Session, seat: TermsSeat) -> str:
    """How a seat is named to people: 转让方, 受让方, or 中介服务人员 with the person's name."""
    role, user_id = seat
    if role != TermsRole.INTERMEDIARY:
        return str(TERMS_ROLE_LABELS[role])
    person = session.get(User, user_id)
    return _("中介服务人员%(name)s", name=person.name if person is not None else f"#{user_id}")


def acceptances(deal: Deal) -> list[tuple[TermsSeat, DealTermsConsent | None]]:
    """Each seat the current terms need with its acceptance of the current version (None: still to accept)."""
    current = {}
    for consent in deal.terms_consents:
        if consent.terms_version == deal.terms_version:
            current[(consent.role, consent.user_id if consent.role == TermsRole.INTERMEDIARY else None)] = consent
    return [(seat, current.get(seat)) for seat in terms_seats(deal)]


def acceptance_rows(session: Session, deal: Deal) -> list[tuple[str, DealTermsConsent | None]]:
    """The acceptances as the deal page lists them: the seat's name and its acceptance."""
    return [(seat_name(session, seat), consent) for seat, consent in acceptances(deal)]


def require_terms_accepted(session: Session, deal: Deal) -> None:
    """Refuse the notice until every seat accepted the current terms, naming who is missing."""
    missing = missing_terms_seats(deal)
    if missing:
        raise InvalidStateError(_("交易条件尚未经双方确认：%(who)s尚未确认第 %(n)s 版交易条件。",
                                  who=_("、").join(seat_name(session, seat) for seat in missing), n=deal.terms_version))


def record_acceptance(session: Session, deal: Deal, actor: User, seats: list[TermsSeat]) -> None:
    """Record the actor's acceptance of the current version for the given seats."""
    for role, _user_id in seats:
        session.add(DealTermsConsent(deal_id=deal.id, terms_version=deal.terms_version, user_id=actor.id, role=role))
    session.flush()
    session.expire(deal, ["terms_consents"])


def new_terms_version(session: Session, deal: Deal, actor: User) -> int:
    """Start a new version of the terms (earlier acceptances no longer count); the change counts as the changer's
    acceptance for his own party and for his own share as a named intermediary, never for anyone else."""
    deal.terms_version += 1
    session.flush()
    session.expire(deal, ["terms_consents"])
    record_acceptance(session, deal, actor, seats_held(actor, deal))
    audit.info("deal %s terms version %s by user_id=%s", deal.id, deal.terms_version, actor.id)
    return deal.terms_version
