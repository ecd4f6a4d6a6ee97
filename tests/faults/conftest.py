"""Fixtures of the fault trials: an approved award ready to be paid out (the registered deal and the signed pre-order
agreement ready to be paid through the API are the shared `registered_deal` and `signed_agreement`)."""
from datetime import date

import pytest

from market.awards import services as award_services
from market.awards.models import AwardStatus
from market.extensions import db
from tests.faults.keyed import WAN
from tests.payments import record_and_confirm_deal_payment


@pytest.fixture
def approved_award(registered_deal, make_user):
    """A paid deal's first payable award, approved by an admin (with a second factor); returns (award id, admin)."""
    deal, researcher, _ = registered_deal
    admin = make_user("admin")
    _, awards = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
    payable = next(award for award in awards if award.status == AwardStatus.PAYABLE and award.granted_fen)
    award_services.approve_award(db.session, admin, payable.id)
    db.session.commit()
    return payable.id, admin
