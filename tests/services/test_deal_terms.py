"""Consent to a deal's terms: both parties and each named intermediary accept the current version before the notice;
a change voids earlier acceptances; the notice locks the terms until a party withdraws it."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market.deals.intermediaries import set_intermediaries
from market.deals.models import Deal, DealEvent, DealStage, DealTermsConsent, TermsRole
from market.deals.permissions import missing_terms_seats
from market.deals.pipeline import (
    accept_terms,
    get_public_notice,
    start_notice,
    update_terms,
    withdraw_notice,
)
from market.deals.recording import today
from market.deals.signing import record_signing
from market.deals.timeline import timeline_notes
from market.errors import InvalidStateError, NotFoundError, PermissionDeniedError, ValidationError
from market.extensions import db
from market.notifications.models import Notification
from tests.conftest import WAN, deal_clock

LOCKED = "公示后交易条件已锁定；如需修改，请由一方撤回公示，修改并经各方确认后重新公示。"
LOCKED_SIGNED = "公示后交易条件已锁定，签约后不能再修改。"


@pytest.fixture
def world(deal_world):
    return deal_world


def fresh(deal: Deal) -> Deal:
    db.session.expire_all()
    return db.session.get(Deal, deal.id)


def consents(deal: Deal) -> int:
    return db.session.scalar(select(func.count()).select_from(DealTermsConsent)
                             .where(DealTermsConsent.deal_id == deal.id))


def change_price(actor, deal: Deal, amount_fen: int) -> Deal:
    return update_terms(db.session, actor, deal.id, agreed_amount_fen=amount_fen, mode="assignment",
                        inventor_share_bp=fresh(deal).inventor_share_bp)


def notice_refusal(actor, deal: Deal) -> str:
    with pytest.raises(InvalidStateError) as refused:
        start_notice(db.session, actor, deal.id)
    assert fresh(deal).stage == DealStage.PRICING
    return str(refused.value)


def test_a_one_sided_change_after_the_other_party_accepted_voids_the_acceptance(world, make_deal):
    deal = make_deal(DealStage.PRICING)
    version = fresh(deal).terms_version
    assert missing_terms_seats(fresh(deal)) == []
    change_price(world.buyer, deal, 80 * WAN)
    deal = fresh(deal)
    assert (deal.terms_version, deal.agreed_amount_fen) == (version + 1, 80 * WAN)
    assert missing_terms_seats(deal) == [(TermsRole.TRANSFEROR, None)]
    assert notice_refusal(world.buyer, deal) == (
        f"交易条件尚未经双方确认：转让方尚未确认第 {version + 1} 版交易条件。")
    change_price(world.broker, deal, 90 * WAN)
    assert missing_terms_seats(fresh(deal)) == [(TermsRole.TRANSFEROR, None), (TermsRole.TRANSFEREE, None)]
    assert notice_refusal(world.broker, deal) == (
        f"交易条件尚未经双方确认：转让方、受让方尚未确认第 {version + 2} 版交易条件。")


def test_the_notice_cannot_start_on_terms_the_transferee_never_accepted(world, make_deal):
    deal = make_deal(DealStage.PRICING, terms_accepted=False)
    change_price(world.broker, deal, 90 * WAN)  # the broker's change counts for neither party
    version = fresh(deal).terms_version
    accept_terms(db.session, world.researcher, deal.id, version)
    assert notice_refusal(world.researcher, deal) == (
        f"交易条件尚未经双方确认：受让方尚未确认第 {version} 版交易条件。")
    with pytest.raises(InvalidStateError) as twice:
        accept_terms(db.session, world.researcher, deal.id, version)
    assert str(twice.value) == f"您已确认第 {version} 版交易条件。"
    accept_terms(db.session, world.buyer, deal.id, version)
    start_notice(db.session, world.researcher, deal.id)
    assert fresh(deal).stage == DealStage.NOTICE


def test_a_new_deal_starts_at_version_one_with_nobody_accepted(world, make_deal):
    deal = fresh(make_deal(DealStage.INTENT, terms_accepted=False, inventor_share_bp=None))
    assert (deal.terms_version, consents(deal)) == (1, 0)
    assert missing_terms_seats(deal) == [(TermsRole.TRANSFEROR, None), (TermsRole.TRANSFEREE, None)]


def test_an_intermediarys_share_needs_his_own_acceptance(world, make_deal, make_user):
    first, second = make_user("broker"), make_user("broker")
    deal = make_deal(DealStage.PRICING)
    set_intermediaries(db.session, world.researcher, deal.id, people=[(str(first.id), 6000), (str(second.id), 4000)],
                       reward_rate_bp=1000)
    version = fresh(deal).terms_version
    accept_terms(db.session, world.buyer, deal.id, version)
    assert notice_refusal(world.researcher, deal) == (
        f"交易条件尚未经双方确认：中介服务人员{first.name}、中介服务人员{second.name}尚未确认第 {version} 版交易条件。")
    with pytest.raises(PermissionDeniedError):
        accept_terms(db.session, world.broker, deal.id, version)  # the deal's broker is not named: no share to accept
    accept_terms(db.session, first, deal.id, version)
    assert notice_refusal(world.broker, deal) == (
        f"交易条件尚未经双方确认：中介服务人员{second.name}尚未确认第 {version} 版交易条件。")
    with pytest.raises(InvalidStateError):
        accept_terms(db.session, world.researcher, deal.id, version)  # a party cannot accept for him
    accept_terms(db.session, second, deal.id, version)
    start_notice(db.session, world.broker, deal.id)
    assert fresh(deal).stage == DealStage.NOTICE


def test_an_intermediary_who_sets_his_own_share_has_accepted_it_but_the_parties_have_not(world, make_deal):
    deal = make_deal(DealStage.PRICING, broker=world.other_broker)
    set_intermediaries(db.session, world.other_broker, deal.id, people=[(str(world.other_broker.id), None)],
                       reward_rate_bp=2000)
    assert missing_terms_seats(fresh(deal)) == [(TermsRole.TRANSFEROR, None), (TermsRole.TRANSFEREE, None)]


def test_outsiders_cannot_accept_terms(world, make_deal):
    deal = make_deal(DealStage.PRICING, terms_accepted=False)
    version = fresh(deal).terms_version
    with pytest.raises(NotFoundError):
        accept_terms(db.session, world.outsider, deal.id, version)
    for actor in (world.other_broker, world.admin):
        with pytest.raises(PermissionDeniedError):
            accept_terms(db.session, actor, deal.id, version)
    assert missing_terms_seats(fresh(deal)) != []


@pytest.mark.parametrize("stage, message", [(DealStage.NOTICE, LOCKED), (DealStage.SIGNED, LOCKED_SIGNED)])
def test_terms_after_the_notice_are_refused(world, make_deal, stage, message):
    deal = make_deal(stage, intermediaries=[(world.other_broker, 10000)], reward_rate_bp=1000)
    before = fresh(deal)
    version, amount = before.terms_version, before.agreed_amount_fen
    for actor in (world.researcher, world.buyer, world.broker):
        with pytest.raises(InvalidStateError) as refused:
            change_price(actor, deal, amount + WAN)
        assert str(refused.value) == message
        with pytest.raises(InvalidStateError) as refused:
            set_intermediaries(db.session, actor, deal.id, people=[(str(world.other_broker.id), None)],
                               reward_rate_bp=3000)
        assert str(refused.value) == message
    deal = fresh(deal)
    assert (deal.terms_version, deal.agreed_amount_fen, deal.reward_rate_bp) == (version, amount, 1000)
    with pytest.raises(InvalidStateError):
        accept_terms(db.session, world.buyer, deal.id, version)


def test_signing_must_use_the_noticed_amount(world, make_deal):
    deal = make_deal(DealStage.NOTICE)
    with pytest.raises(ValidationError) as refused:
        record_signing(db.session, world.researcher, deal.id, signed_on=today(),
                       agreed_amount_fen=fresh(deal).agreed_amount_fen + 1)
    assert "须与公示价格" in refused.value.fields["agreed_amount_fen"]
    assert fresh(deal).stage == DealStage.NOTICE


def test_withdrawing_the_notice_reopens_the_terms(world, make_deal):
    deal = make_deal(DealStage.NOTICE, notice_starts_on=today())
    assert get_public_notice(db.session, deal.id).id == deal.id
    with pytest.raises(PermissionDeniedError):
        withdraw_notice(db.session, world.broker, deal.id, reason="价格需重新商定")
    with pytest.raises(NotFoundError):
        withdraw_notice(db.session, world.outsider, deal.id, reason="价格需重新商定")
    with pytest.raises(ValidationError) as refused:
        withdraw_notice(db.session, world.buyer, deal.id, reason="  ")
    assert refused.value.fields == {"reason": "请填写撤回公示的原因。"}
    assert fresh(deal).stage == DealStage.NOTICE
    withdraw_notice(db.session, world.buyer, deal.id, reason="价格需重新商定")
    deal = fresh(deal)
    assert (deal.stage, deal.notice_starts_on, deal.notice_ends_on) == (DealStage.PRICING, None, None)
    event = db.session.scalars(select(DealEvent).where(DealEvent.deal_id == deal.id).order_by(DealEvent.id.desc())).first()
    assert (event.action, event.note, event.from_stage, event.actor_id) == (
        "notice_withdrawn", "价格需重新商定", DealStage.NOTICE, world.buyer.id)
    told = db.session.scalar(select(Notification).where(Notification.user_id == world.researcher.id,
                                                        Notification.kind == "deal_notice_withdrawn"))
    assert told is not None and told.body == "价格需重新商定"
    with pytest.raises(NotFoundError):
        get_public_notice(db.session, deal.id)
    with pytest.raises(InvalidStateError):
        withdraw_notice(db.session, world.buyer, deal.id, reason="再次撤回")
    change_price(world.researcher, deal, 120 * WAN)
    assert notice_refusal(world.researcher, deal).startswith("交易条件尚未经双方确认：受让方")
    accept_terms(db.session, world.buyer, deal.id, fresh(deal).terms_version)
    with deal_clock(today() - timedelta(days=1)):
        start_notice(db.session, world.researcher, deal.id)
    deal = fresh(deal)
    assert (deal.stage, deal.agreed_amount_fen) == (DealStage.NOTICE, 120 * WAN)


def test_a_stale_version_cannot_be_accepted(world, make_deal):
    deal = make_deal(DealStage.PRICING, terms_accepted=False)
    shown = fresh(deal).terms_version
    change_price(world.researcher, deal, 70 * WAN)
    before = consents(deal)
    with pytest.raises(InvalidStateError) as refused:
        accept_terms(db.session, world.buyer, deal.id, shown)
    assert str(refused.value) == (f"交易条件已变更为第 {shown + 1} 版（您确认的是第 {shown} 版），请查看最新条件后再确认。")
    with pytest.raises(InvalidStateError):
        accept_terms(db.session, world.buyer, deal.id, shown + 2)
    assert consents(deal) == before
    for bad in (None, "", "abc", 0, -1, "1.5", 2**40):
        with pytest.raises(ValidationError):
            accept_terms(db.session, world.buyer, deal.id, bad)
    accept_terms(db.session, world.buyer, deal.id, str(shown + 1))
    assert missing_terms_seats(fresh(deal)) == []


def test_a_change_tells_everyone_involved_to_review_and_is_on_the_timeline(world, make_deal):
    deal = make_deal(DealStage.PRICING, intermediaries=[(world.other_broker, 10000)], reward_rate_bp=1000)
    change_price(world.buyer, deal, 60 * WAN)
    version = fresh(deal).terms_version
    for person in (world.researcher, world.broker, world.other_broker):
        titles = db.session.scalars(select(Notification.title).where(Notification.user_id == person.id)).all()
        assert f"交易条件已变更为第 {version} 版，请查看并确认：{deal.title}" in titles
    event = db.session.scalars(select(DealEvent).where(DealEvent.deal_id == deal.id).order_by(DealEvent.id.desc())).first()
    assert event.action == "terms" and event.note_params["version"] == version
    assert timeline_notes(db.session, [event])[event.id].startswith(f"第 {version} 版：")
    assert missing_terms_seats(fresh(deal)) == [(TermsRole.TRANSFEROR, None), (TermsRole.INTERMEDIARY, world.other_broker.id)]


def test_resubmitting_the_same_terms_keeps_the_acceptances(world, make_deal):
    deal = make_deal(DealStage.PRICING, intermediaries=[(world.other_broker, 10000)], reward_rate_bp=1000)
    version = fresh(deal).terms_version
    change_price(world.broker, deal, fresh(deal).agreed_amount_fen)
    set_intermediaries(db.session, world.broker, deal.id, people=[(str(world.other_broker.id), None)],
                       reward_rate_bp=1000)
    assert fresh(deal).terms_version == version and missing_terms_seats(fresh(deal)) == []
