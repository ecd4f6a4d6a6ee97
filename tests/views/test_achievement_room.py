"""Before a deal: brokers, admins and the owner see the room left on an achievement's per-achievement caps and how many
more intermediaries it may name, on its page and when introducing it; nobody else sees money."""
import re
from datetime import date

from market.awards.headroom import achievement_room
from market.extensions import db
from tests.conftest import client_for
from tests.payments import record_and_confirm_deal_payment
from tests.views.test_introduction_views import page_of

WAN = 1_000_000


def _room_left(page: str) -> int:
    return int(re.search(r'class="mb-1 cap-room" data-rule="R2" data-room-fen="(\d+)"', page).group(1))


def test_the_room_left_counts_every_deal_on_the_achievement(app, make_registered_deal, make_user):
    deal, researcher, _brokers = make_registered_deal()
    record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
    db.session.commit()
    room = achievement_room(db.session, deal.achievement_id)
    assert [(cap.rule, cap.used_fen, cap.room_fen) for cap in room.caps] == [("R2", 120 * WAN, 80 * WAN)]
    assert (room.named_people, room.people_limit, room.people_left, room.exhausted) == (3, 3, 0, False)
    broker = make_user("broker")
    for viewer in (broker, researcher, make_user("admin")):
        achievement_page = page_of(client_for(app, viewer).get(f"/achievements/{deal.achievement_id}"))
        assert _room_left(achievement_page) == 80 * WAN and "还可增加 0 人" in achievement_page
    introduce_page = page_of(client_for(app, broker).get(f"/introductions/new/{deal.achievement_id}"))
    assert _room_left(introduce_page) == 80 * WAN and "新项目只能列名已有的中介服务人员" in introduce_page


def test_an_exhausted_cap_warns_that_a_new_deal_earns_nothing(app, make_registered_deal, make_user):
    deal, researcher, _brokers = make_registered_deal(value_fen=2000 * WAN, reward_rate_bp=1000)
    record_and_confirm_deal_payment(researcher, deal.id, amount_fen=2000 * WAN, paid_on=date(2025, 4, 30))
    db.session.commit()
    assert achievement_room(db.session, deal.achievement_id).exhausted
    page = page_of(client_for(app, make_user("broker")).get(f"/achievements/{deal.achievement_id}"))
    assert _room_left(page) == 0 and "额度已用完：新的转化项目不会再为中介服务人员带来奖励" in page


def test_visitors_and_other_companies_see_no_money(app, client, registered_deal, make_user):
    deal, _researcher, _brokers = registered_deal
    for viewer_page in (page_of(client.get(f"/achievements/{deal.achievement_id}")),
                        page_of(client_for(app, make_user("enterprise")).get(f"/achievements/{deal.achievement_id}"))):
        assert 'id="achievement-room"' not in viewer_page and "还剩的政策额度" not in viewer_page
