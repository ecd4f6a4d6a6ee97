"""The money outlook panel on deal and agreement pages: shown to the parties, the deal's brokers and admins only, with
the room left under each cap and what a payment would earn; trying an amount stores nothing."""
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from market.awards.ledger import LedgerEntry
from market.awards.models import Award, PolicyEvent, PolicyStateSnapshot
from market.deals.models import DealStage
from market.extensions import db
from market.timeutil import today_in_china
from tests.payments import member_of, record_and_confirm_deal_payment

WAN = 1_000_000


@pytest.fixture
def world(deal_world, make_registered_deal, make_deal, make_user):
    """The first deal on an achievement fully paid (R2 used ¥1.2M of ¥2M), a second one priced at ¥5M at 20% to one
    of its intermediaries and brokered by the deal world's broker."""
    achievement = deal_world.achievement
    first, researcher, brokers = make_registered_deal(value_fen=600 * WAN, achievement=achievement)
    record_and_confirm_deal_payment(researcher, first.id, amount_fen=600 * WAN, paid_on=today_in_china())
    db.session.commit()
    second = make_deal(DealStage.PRICING, achievement=achievement, buyer=deal_world.buyer, amount_fen=500 * WAN,
                       intermediaries=[(brokers[0], 10_000)], reward_rate_bp=2000)
    return {"deal": second, "researcher": researcher, "buyer": deal_world.buyer, "broker": deal_world.broker,
            "intermediary": brokers[0], "admin": make_user("admin"), "other_broker": deal_world.other_broker,
            "outsider": deal_world.outsider}


def panel(page: str) -> str:
    start = page.index('id="money-outlook"')
    return page[start:page.index("</section>", start)]


@pytest.mark.parametrize("who", ["researcher", "buyer", "broker", "intermediary", "admin"])
def test_parties_brokers_and_admins_see_the_room_left_and_what_the_rest_would_earn(client, login, world, who):
    login(world[who])
    response = client.get(f"/deals/{world['deal'].id}")
    assert response.status_code == 200
    shown = panel(response.get_data(as_text=True))
    cap = re.search(r'class="border rounded p-2 mb-2 cap-room" data-rule="R2" data-scope="achievement" '
                    r'data-limit-fen="(\d+)" data-used-fen="(\d+)" data-room-fen="(\d+)"', shown)
    assert cap and cap.groups() == (str(200 * WAN), str(120 * WAN), str(80 * WAN))
    assert "¥800,000.00" in shown
    assert re.search(rf'id="dry-run" data-amount-fen="{500 * WAN}" data-granted-fen="{80 * WAN}"', shown)
    assert 'data-capped-by="achievement"' in shown


@pytest.mark.parametrize("who", ["other_broker"])
def test_a_broker_who_only_tracks_the_deal_does_not_see_the_panel(client, login, world, who):
    login(world[who])
    response = client.get(f"/deals/{world['deal'].id}")
    assert response.status_code == 200
    assert 'id="money-outlook"' not in response.get_data(as_text=True)


def test_other_companies_and_visitors_see_no_deal(client, login, world):
    assert client.get(f"/deals/{world['deal'].id}").status_code == 302
    login(world["outsider"])
    assert client.get(f"/deals/{world['deal'].id}").status_code == 404


def money_rows() -> tuple:
    snapshot = db.session.get(PolicyStateSnapshot, 1)
    return (tuple(db.session.scalar(select(func.count()).select_from(model)) for model in (PolicyEvent, Award, LedgerEntry)),
            snapshot.last_event_id, snapshot.state)


@pytest.mark.parametrize("typed, amount_fen, granted_fen", [
    ("100万", 100 * WAN, 20 * WAN),
    ("1,000,000.00", 100 * WAN, 20 * WAN),
    ("５００万元", 500 * WAN, 80 * WAN),
])
def test_trying_an_amount_shows_what_it_earns_and_stores_nothing(client, login, world, typed, amount_fen, granted_fen):
    login(world["researcher"])
    before = money_rows()
    shown = panel(client.get(f"/deals/{world['deal'].id}", query_string={"try_payment": typed}).get_data(as_text=True))
    assert re.search(rf'id="dry-run" data-amount-fen="{amount_fen}" data-granted-fen="{granted_fen}"', shown)
    db.session.expire_all()
    assert money_rows() == before


@pytest.mark.parametrize("typed, message", [
    ("abc", "金额格式不正确"),
    ("0", "请输入大于零的金额。"),
    ("-5", "金额不能带正负号"),
    ("9" * 60, "金额太长"),
    ("501万", "测算金额超过尚未支付的 ¥5,000,000.00"),
])
def test_a_bad_amount_is_answered_in_the_panel_not_with_an_error_page(client, login, world, typed, message):
    login(world["buyer"])
    response = client.get(f"/deals/{world['deal'].id}", query_string={"try_payment": typed})
    assert response.status_code == 200
    shown = panel(response.get_data(as_text=True))
    assert message in shown and 'id="dry-run"' not in shown


@pytest.fixture
def agreement_world(make_agreement, make_user):
    broker = make_user("broker")
    agreement = make_agreement(deliveries=[(15_000 * WAN, date(2025, 1, 10), date(2025, 1, 20))],
                               payments=[(5000 * WAN, today_in_china())], broker_id=broker.id)
    return {"agreement": agreement, "seller": member_of(agreement.seller_id), "buyer": member_of(agreement.buyer_id),
            "admin": make_user("admin"), "outsider": make_user("enterprise"), "broker": broker,
            "other_broker": make_user("broker")}


@pytest.mark.parametrize("who", ["seller", "buyer", "broker", "admin"])
def test_agreement_parties_see_the_yearly_room_of_the_seller(client, login, agreement_world, who):
    login(agreement_world[who])
    shown = panel(client.get(f"/contracts/{agreement_world['agreement'].id}").get_data(as_text=True))
    assert re.search(rf'data-rule="R1" data-scope="recipient_calendar_year" data-limit-fen="{1000 * WAN}" '
                     rf'data-used-fen="{500 * WAN}" data-room-fen="{500 * WAN}"', shown)
    assert re.search(rf'id="dry-run" data-amount-fen="{10_000 * WAN}" data-granted-fen="{500 * WAN}"', shown)


@pytest.mark.parametrize("who", ["outsider", "other_broker"])
def test_others_do_not_see_the_agreement(client, login, agreement_world, who):
    login(agreement_world[who])
    assert client.get(f"/contracts/{agreement_world['agreement'].id}").status_code == 404
