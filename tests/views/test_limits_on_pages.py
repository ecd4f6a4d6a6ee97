"""Inputs written by hand in templates (inline rename, feedback comment, reversal reason) show the declared limits."""
import re
from datetime import date

from market.awards.inputs import REVERSAL_REASON_MAX_LENGTH
from market.extensions import db
from market.matching.services import FEEDBACK_COMMENT_MAX_LENGTH
from market.taxonomy.models import FIELD_NAME_EN_MAX_LENGTH, FIELD_NAME_MAX_LENGTH
from tests.conftest import HYDROGEN, HYDROGEN_NEED, WAN
from tests.payments import record_and_confirm_deal_payment


def maxlength_of(page: str, name: str) -> set[str]:
    """The maxlength attributes of the page's inputs named `name`."""
    return {match[1] for tag in re.findall(rf'<input[^>]*name="{name}"[^>]*>', page)
            for match in [re.search(r'maxlength="([^"]*)"', tag)] if match}


def test_inline_field_rename_shows_the_field_name_limits(client, login_as):
    login_as("admin")
    page = client.get("/admin/fields").get_data(as_text=True)
    assert maxlength_of(page, "name") == {str(FIELD_NAME_MAX_LENGTH)}
    assert maxlength_of(page, "name_en") == {str(FIELD_NAME_EN_MAX_LENGTH)}


def test_feedback_comment_shows_the_comment_limit(client, login, make_achievement, make_demand):
    make_achievement(**HYDROGEN)
    demand = make_demand(**HYDROGEN_NEED)
    login(demand.submitter)
    page = client.get(f"/demands/{demand.id}/matches").get_data(as_text=True)
    assert maxlength_of(page, "comment") == {str(FEEDBACK_COMMENT_MAX_LENGTH)}


def test_reversal_reason_shows_the_reason_limit(client, login_as, make_organisation, make_user, make_achievement,
                                                make_registered_deal):
    buyer = make_organisation("enterprise", region="阳泉市", valley_id="yangquan", resident_since=date(2024, 5, 1))
    broker = make_user("broker")
    deal, researcher, _ = make_registered_deal(achievement=make_achievement(title="制氢工艺转让"), transferee=buyer,
                                               shares=(10000,), brokers=[broker], agent=broker.organisation)
    record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
    db.session.commit()
    login_as("admin")
    page = client.get("/money/awards").get_data(as_text=True)
    assert maxlength_of(page, "reason") == {str(REVERSAL_REASON_MAX_LENGTH)}
