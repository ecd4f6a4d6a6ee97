"""Words: engine rejections and cap notes in the user's language with names, payer accounts in words, amounts in
yuan in English, valley and city names in English, and deal timeline notes stored as codes and worded when shown."""
import importlib.util
import re
from datetime import date
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from market.awards import wording
from market.awards.grants import record_startup_grant
from market.deals.board import deal_timeline
from market.deals.models import DealEvent, DealStage
from market.deals.timeline import timeline_notes
from market.errors import RuleViolationError
from market.extensions import db
from market.taxonomy.models import Valley
from market.taxonomy.wording import city_name, field_name, valley_name
from market.templating import format_amount

WAN = 1_000_000
INTERNAL_KEY = re.compile(r"\b(?:org|user|deal|achievement|preorder)-\d+\b|fiscal:|proceeds:|\bev\d+\b")
MIGRATION = Path(__file__).resolve().parents[2] / "market/migrations/versions/b8e4f21c7a90_words_city_names_and_timeline_codes.py"


def test_a_refused_grant_is_explained_in_chinese_naming_the_company(app, make_user, make_organisation):
    admin = make_user("admin")
    startup = make_organisation("enterprise", name="晋城光学科技", valley_id="jincheng", resident_since=date(2024, 1, 5))
    with pytest.raises(RuleViolationError) as refused:
        record_startup_grant(db.session, admin, startup.id, granted_on=date(2024, 6, 1),
                             founders_paid_in_fen=25 * WAN, awarded_fen=100 * WAN)
    message = str(refused.value)
    assert "晋城光学科技" in message and "¥250,000.00" in message and "¥300,000.00" in message
    assert not INTERNAL_KEY.search(message) and "Grant" not in message


def test_rejections_name_agreements_contracts_and_people(app, make_user, make_organisation, registered_deal):
    deal, _researcher, brokers = registered_deal
    names = wording.Names(db.session)
    text = wording.rejection_text(names, "payment_above_value", {
        "event": "ev9", "kind": "contract", "subject": f"deal-{deal.id}", "amount_fen": 200 * WAN,
        "total_fen": 1300 * WAN, "value_fen": 1200 * WAN})
    assert deal.title in text and deal.registration_number in text and "¥13,000,000.00" in text
    people = wording.rejection_text(names, "too_many_intermediaries", {
        "achievement": f"achievement-{deal.achievement_id}", "count": 4, "max": 3,
        "people": [f"user-{broker.id}" for broker in brokers]})
    assert deal.achievement.title in people and all(broker.name in people for broker in brokers)
    assert not INTERNAL_KEY.search(text + people)
    assert "不符合政策规则" in wording.rejection_text(names, "something_new", {"event": "ev1"})


def test_payer_accounts_read_as_budgets_and_proceeds(app, make_organisation):
    university = make_organisation("university", name="太原理工大学测试")
    names = wording.Names(db.session, [f"proceeds:org-{university.id}"])
    assert names.payer("fiscal:province") == "省级财政"
    assert names.payer("fiscal:yangquan") == "阳泉市财政"
    assert names.payer(f"proceeds:org-{university.id}") == "太原理工大学测试的转化收益"
    assert names.payer("proceeds:transferor") == "转让方的转化收益"
    with app.test_request_context(), force_locale("en"):
        assert "Yangquan" in names.payer("fiscal:yangquan")
    assert names("org-999999") == "（已删除）"


def test_cap_notes_name_the_cap_and_its_amount(app):
    from market.policy.rules import load_shipped_rule_set

    rule = next(rule for rule in load_shipped_rule_set().versions[0].rules if rule.id == "R1")
    assert "额度已用完" in wording.explain_capped_by(rule, "recipient_calendar_year", 0)
    assert "¥10,000,000.00" in wording.explain_nil(rule, "recipient_calendar_year")
    assert wording.explain_waived("R2") == "从优不重复：已按规则 R2 享受"


def test_amounts_read_in_yuan_in_english_and_in_wan_in_chinese(app):
    with app.test_request_context():
        with force_locale("en"):
            assert format_amount(1234 * WAN) == "¥12,340,000"
            assert format_amount(12_345) == "¥123.45"
        with force_locale("zh_CN"):
            assert format_amount(1234 * WAN) == "1,234万元"


def test_valley_city_and_field_names_in_english(app):
    from market.taxonomy.models import Field

    valley = db.session.get(Valley, "yangquan")
    field = db.session.scalar(select(Field).where(Field.name_en != "").limit(1))
    with app.test_request_context():
        with force_locale("en"):
            assert (valley_name(valley), city_name(valley)) == (valley.name_en, "Yangquan")
            assert field_name(field) == field.name_en
        with force_locale("zh_CN"):
            assert (valley_name(valley), city_name(valley), field_name(field)) == (valley.name, "阳泉市", field.name)
    assert all(v.city_en for v in db.session.scalars(select(Valley)))


def test_deal_steps_store_codes_and_are_worded_in_the_viewers_language(app, make_deal, make_user):
    broker = make_user("broker")
    deal = make_deal(DealStage.SIGNED, intermediaries=[(broker, 10000)], reward_rate_bp=2000, amount_fen=120 * WAN)
    events = list(db.session.scalars(select(DealEvent).where(DealEvent.deal_id == deal.id).order_by(DealEvent.id)))
    codes = {event.action: event.note_code for event in events}
    assert codes["opened"] == "bid_accepted" and codes["terms"] == "terms" and codes["notice"] == "notice"
    assert codes["signed"] == "signed" and codes["intermediaries"] == "intermediaries"
    assert codes["terms_accepted"] == "terms_accepted" and codes["broker"] == "broker_joined"
    for event in events:
        if event.note_code:
            assert not re.search(r"[\u4e00-\u9fff]", event.note or ""), (event.action, event.note)
    signed = next(event for event in events if event.action == "signed")
    assert signed.note_params == {"day": deal.signed_on.isoformat(), "amount_fen": 120 * WAN}
    with app.test_request_context():
        with force_locale("zh_CN"):
            chinese = timeline_notes(db.session, events)
            shown = [entry.note for entry in deal_timeline(db.session, deal)]
        with force_locale("en"):
            english = timeline_notes(db.session, events)
    assert "120万元" in chinese[signed.id] and deal.signed_on.isoformat() in chinese[signed.id]
    assert "¥1,200,000" in english[signed.id] and "万元" not in english[signed.id]
    notice = next(event for event in events if event.action == "notice")
    assert chinese[notice.id].startswith("公示期") and english[notice.id].startswith("Public notice period")
    joined = next(event for event in events if event.note_code == "broker_joined")
    assert deal.broker.name in chinese[joined.id]
    people = next(event for event in events if event.action == "intermediaries")
    assert broker.name in chinese[people.id] and "20%" in chinese[people.id]
    assert shown == [chinese[event.id] for event in events]


def _migration():
    spec = importlib.util.spec_from_file_location("words_migration", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_reads_the_old_sentences_and_keeps_what_it_cannot(app, make_user):
    coded = _migration().coded
    broker = make_user("broker", name="独一无二的经纪人")
    connection = db.session.connection()
    assert coded(connection, "opened", "接受第 2 轮报价") == ("bid_accepted", {"round": 2}, "")
    assert coded(connection, "opened", "Accepted round 3 of the bid") == ("bid_accepted", {"round": 3}, "")
    assert coded(connection, "notice", "公示期 2025-01-01 至 2025-01-15") == (
        "notice", {"starts": "2025-01-01", "ends": "2025-01-15"}, "")
    assert coded(connection, "signed", "2025-02-01 1,234.5万元") == (
        "signed", {"day": "2025-02-01", "amount_fen": 1_234_500_000}, "")
    assert coded(connection, "payment", "¥1,234.56") == ("payment", {"amount_fen": 123_456}, "")
    assert coded(connection, "broker", "独一无二的经纪人 成为项目经纪人") == ("broker_joined", {"broker": broker.id}, "")
    assert coded(connection, "broker", "移除项目经纪人 独一无二的经纪人：不再合作") == (
        "broker_removed", {"broker": broker.id}, "不再合作")
    assert coded(connection, "broker", "查无此人 成为项目经纪人") is None
    assert coded(connection, "terminated", "受让方资金未落实") is None
    assert coded(connection, "registered", "2025-TY-0001") is None
