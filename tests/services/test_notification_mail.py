"""Everyone who must act or is affected is told once in-app and once by mail (in the same unit of work), the others
not at all; each optional mail category can be turned off, the action mails only with an acknowledgement."""
import re
from datetime import date

import pytest
from flask import current_app
from sqlalchemy import delete, func, select

from market.accounts import services as accounts
from market.accounts.models import ApprovalStatus, OutboxMail, User
from market.awards import services as award_services
from market.awards.grants import record_startup_grant
from market.awards.models import AwardStatus
from market.deals import payments as deal_payments
from market.deals.brokers import ask_to_join_deal, invite_broker
from market.deals.pipeline import update_terms
from market.errors import ValidationError
from market.extensions import db
from market.notifications import services as notifications
from market.notifications.categories import MailCategory, mail_category
from market.notifications.models import Notification
from market.preorders import services as preorders
from market.timeutil import today_in_china

WAN = 1_000_000
INTERNAL_KEY = re.compile(r"\b(org|user)-\d+|\bev\d+")


def told(user: User, kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                              Notification.kind == kind)))


def mails_to(user: User, subject: str | None = None) -> list[OutboxMail]:
    query = select(OutboxMail).where(OutboxMail.recipient == user.email)
    if subject is not None:
        query = query.where(OutboxMail.subject == subject)
    return list(db.session.scalars(query))


def assert_told_once(user: User, kind: str) -> Notification:
    """One notification of the kind, and one mail carrying its title and its page's absolute link."""
    notices = told(user, kind)
    assert len(notices) == 1, f"{user.email}: {len(notices)} {kind} notifications"
    notice = notices[0]
    mails = mails_to(user, notice.title)
    assert len(mails) == 1, f"{user.email}: {len(mails)} mails for {notice.title}"
    assert current_app.config["BASE_URL"] + notice.link in mails[0].body
    assert not INTERNAL_KEY.search(mails[0].body) and not INTERNAL_KEY.search(notice.title)
    return notice


def untold(users, kind: str) -> None:
    for user in users:
        assert told(user, kind) == [], f"{user.email} was told {kind}"


def forget_earlier_notices() -> None:
    """Drop what building the world told people, so that a test counts what its own step tells."""
    db.session.execute(delete(Notification))
    db.session.execute(delete(OutboxMail))


def mail_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMail))


# ---------------------------------------------------------------- membership


@pytest.mark.parametrize("approve, kind", [(True, "membership_approved"), (False, "membership_refused")])
def test_the_applicant_is_told_the_membership_decision(make_user, approve, kind):
    admin, applicant = make_user("admin"), make_user("researcher", membership_status=ApprovalStatus.PENDING)
    colleague = make_user("researcher", organisation=applicant.organisation)
    accounts.decide_membership(db.session, admin, applicant.id, approve)
    assert_told_once(applicant, kind)
    untold([admin, colleague], kind)


# ---------------------------------------------------------------- pre-orders


@pytest.fixture
def agreement_people(preorder_parties, make_user):
    """The pre-order parties with a second buyer member (both must be told) and a second seller member."""
    parties = preorder_parties
    parties.buyer_colleague = make_user("enterprise", organisation=parties.buyer)
    parties.seller_colleague = make_user("enterprise", organisation=parties.seller)
    return parties


def test_an_agreement_naming_you_asks_you_to_confirm_it_or_to_check_it(agreement_people, make_agreement):
    people = agreement_people
    make_agreement(seller=people.seller_user, buyer=people.buyer_user, broker_id=people.broker.id)
    for person in (people.buyer_user, people.buyer_colleague):
        assert_told_once(person, "preorder_agreement_awaits_confirmation")
    for person in (people.broker, people.seller_colleague):
        assert_told_once(person, "preorder_agreement_recorded")
    untold([people.seller_user, people.outsider, people.admin], "preorder_agreement_recorded")
    untold([people.seller_user, people.seller_colleague, people.broker, people.outsider, people.admin],
           "preorder_agreement_awaits_confirmation")
    for person in (people.buyer_colleague, people.broker, people.seller_user, people.seller_colleague):
        assert_told_once(person, "preorder_agreement_confirmed")
    untold([people.buyer_user, people.outsider, people.admin], "preorder_agreement_confirmed")


def test_a_delivery_awaits_the_buyers_acceptance(agreement_people, make_agreement):
    people = agreement_people
    agreement = make_agreement(seller=people.seller_user, buyer=people.buyer_user)
    preorders.record_delivery(db.session, people.seller_user, agreement.id,
                              {"delivered_on": "2025-01-10", "quantity": "1", "amount_fen": 100 * WAN})
    for person in (people.buyer_user, people.buyer_colleague):
        assert_told_once(person, "delivery_awaits_acceptance")
    untold([people.seller_user, people.seller_colleague, people.outsider], "delivery_awaits_acceptance")


def test_a_preorder_payment_awaits_the_sellers_confirmation(agreement_people, make_agreement):
    people = agreement_people
    agreement = make_agreement(seller=people.seller_user, buyer=people.buyer_user,
                               deliveries=[(15_000 * WAN, date(2025, 1, 10), date(2025, 1, 20))])
    preorders.record_payment(db.session, people.buyer_user, agreement.id, amount_fen=100 * WAN, paid_on="2025-02-01")
    for person in (people.seller_user, people.seller_colleague):
        assert_told_once(person, "payment_awaits_confirmation")
    untold([people.buyer_user, people.buyer_colleague, people.outsider], "payment_awaits_confirmation")


# ---------------------------------------------------------------- deals


def test_a_deal_payment_awaits_the_payers_confirmation(registered_deal, make_user):
    deal, researcher, brokers = registered_deal
    payer = db.session.get(User, next(iter(db.session.scalars(
        select(User.id).where(User.organisation_id == deal.transferee_id)))))
    payer_colleague = make_user("enterprise", organisation=payer.organisation)
    deal_payments.record_deal_payment(db.session, researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
    for person in (payer, payer_colleague):
        notice = assert_told_once(person, "payment_awaits_confirmation")
        assert notice.link == f"/deals/{deal.id}"
    untold([researcher, *brokers], "payment_awaits_confirmation")


def test_the_invited_broker_is_asked_once(deal_world, make_deal):
    deal = make_deal(broker=None)
    invite_broker(db.session, deal_world.researcher, deal.id, broker_id=deal_world.other_broker.id)
    assert_told_once(deal_world.other_broker, "deal_broker_request")
    untold([deal_world.researcher, deal_world.broker, deal_world.outsider], "deal_broker_request")


def test_a_broker_asking_to_join_asks_both_parties(deal_world, make_deal):
    deal = make_deal(broker=None)
    forget_earlier_notices()
    ask_to_join_deal(db.session, deal_world.other_broker, deal.id)
    for person in (deal_world.researcher, deal_world.buyer):
        assert_told_once(person, "deal_broker_request")
    untold([deal_world.other_broker, deal_world.broker, deal_world.outsider], "deal_broker_request")


def test_changed_terms_are_told_to_the_other_side_and_the_broker(deal_world, make_deal):
    deal = make_deal()
    forget_earlier_notices()
    update_terms(db.session, deal_world.researcher, deal.id, agreed_amount_fen=120 * WAN, mode="assignment",
                 inventor_share_bp=7000)
    for person in (deal_world.buyer, deal_world.broker):
        assert_told_once(person, "deal_terms")
    untold([deal_world.researcher, deal_world.other_broker, deal_world.outsider], "deal_terms")


# ---------------------------------------------------------------- awards


@pytest.fixture
def paid_proceeds(registered_deal, make_user):
    """POLICY.md's worked example 2 with ¥6M of proceeds confirmed: the awards it earned, the intermediaries, an admin
    and an unrelated broker."""
    deal, researcher, brokers = registered_deal
    payment = deal_payments.record_deal_payment(db.session, researcher, deal.id, amount_fen=600 * WAN,
                                                paid_on=date(2025, 4, 30))
    payer = db.session.scalar(select(User).where(User.organisation_id == deal.transferee_id))
    _, awards = deal_payments.confirm_deal_payment(db.session, payer, payment.id)
    return awards, brokers, make_user("admin"), make_user("broker")


def test_each_person_an_award_is_computed_for_is_told(paid_proceeds):
    awards, brokers, admin, stranger = paid_proceeds
    for broker in brokers:
        mine = [award for award in awards if award.recipient == f"user-{broker.id}" and award.granted_fen
                and award.status in (AwardStatus.PAYABLE, AwardStatus.HELD)]
        assert mine, "each intermediary earns an R2 line"
        assert len(told(broker, "award_computed")) == len(mine)
        assert_told_once(broker, "award_computed")
    untold([admin, stranger], "award_computed")


def test_an_organisations_members_are_told_of_its_award(make_user, make_organisation):
    admin = make_user("admin")
    startup = make_organisation("enterprise", valley_id="taiyuan", resident_since=date(2024, 3, 1))
    members = [make_user("enterprise", organisation=startup) for _ in range(2)]
    pending = make_user("enterprise", organisation=startup, membership_status=ApprovalStatus.PENDING)
    outsider = make_user("enterprise")
    record_startup_grant(db.session, admin, startup.id, granted_on=date(2024, 6, 1), founders_paid_in_fen=80 * WAN,
                         awarded_fen=100 * WAN)
    for member in members:
        notice = assert_told_once(member, "award_computed")
        assert "¥800,000.00" in notice.title and "初创企业资本金补助" in notice.title
    untold([admin, pending, outsider], "award_computed")


def test_approval_payout_and_reversal_are_told_with_the_voucher_and_the_reason(paid_proceeds):
    awards, brokers, admin, stranger = paid_proceeds
    first = next(award for award in awards if award.recipient == f"user-{brokers[0].id}")
    second = next(award for award in awards if award.recipient == f"user-{brokers[1].id}")
    award_services.approve_award(db.session, admin, first.id)
    assert_told_once(brokers[0], "award_approved")
    award_services.pay_award(db.session, admin, first.id, voucher_reference="BOC-2025-0042", paid_on=today_in_china())
    paid = assert_told_once(brokers[0], "award_paid")
    assert "BOC-2025-0042" in paid.body and "BOC-2025-0042" in mails_to(brokers[0], paid.title)[0].body
    award_services.reverse_award(db.session, admin, second.id, "合同金额登记有误")
    reversed_notice = assert_told_once(brokers[1], "award_reversed")
    assert "合同金额登记有误" in reversed_notice.body
    for kind in ("award_approved", "award_paid", "award_reversed"):
        untold([admin, stranger, brokers[2]], kind)
    untold([brokers[1]], "award_paid")


def test_a_paid_award_reversed_is_told_as_owed_back_and_its_recovery_as_received(paid_proceeds):
    awards, brokers, admin, stranger = paid_proceeds
    first = next(award for award in awards if award.recipient == f"user-{brokers[0].id}")
    award_services.approve_award(db.session, admin, first.id)
    award_services.pay_award(db.session, admin, first.id, voucher_reference="BOC-7", paid_on=today_in_china())
    award_services.reverse_award(db.session, admin, first.id, "合同已解除")
    owed = assert_told_once(brokers[0], "award_receivable")
    assert "需退回" in owed.title and "合同已解除" in owed.body
    award_services.record_recovery(db.session, admin, first.id, voucher_reference="BACK-7",
                                   recovered_on=today_in_china().isoformat())
    assert "BACK-7" in assert_told_once(brokers[0], "award_recovered").body
    untold([brokers[0]], "award_reversed")
    untold([admin, stranger], "award_receivable")


def test_a_refused_approval_tells_nobody(paid_proceeds):
    awards, brokers, admin, _stranger = paid_proceeds
    first = next(award for award in awards if award.recipient == f"user-{brokers[0].id}")
    approved, refused = award_services.approve_awards(db.session, admin, [first.id, first.id])
    assert len(approved) == 1 and len(refused) == 1
    assert_told_once(brokers[0], "award_approved")


# ---------------------------------------------------------------- choices and language


def test_a_category_turned_off_is_not_mailed_but_still_shown(paid_proceeds, make_user):
    awards, brokers, admin, _stranger = paid_proceeds
    broker = brokers[0]
    notifications.set_mail_categories(db.session, broker, {"categories": ["action", "deal_news"]})
    assert notifications.mail_categories_on(db.session, broker) == [MailCategory.ACTION, MailCategory.DEAL_NEWS]
    first = next(award for award in awards if award.recipient == f"user-{broker.id}")
    before = len(mails_to(broker))
    award_services.approve_award(db.session, admin, first.id)
    notice = told(broker, "award_approved")
    assert len(notice) == 1 and mails_to(broker, notice[0].title) == [] and len(mails_to(broker)) == before
    assert_told_once(brokers[1], "award_computed")


def test_action_mails_are_turned_off_only_with_the_acknowledgement(agreement_people, make_agreement):
    people = agreement_people
    with pytest.raises(ValidationError) as refused:
        notifications.set_mail_categories(db.session, people.buyer_user, {"categories": ["money", "deal_news"]})
    assert "action_off_understood" in refused.value.fields
    assert MailCategory.ACTION in notifications.mail_categories_on(db.session, people.buyer_user)
    notifications.set_mail_categories(db.session, people.buyer_user, {"categories": ["money", "deal_news"],
                                                                     "action_off_understood": True})
    agreement = make_agreement(seller=people.seller_user, buyer=people.buyer_user)
    preorders.record_delivery(db.session, people.seller_user, agreement.id,
                              {"delivered_on": "2025-01-10", "quantity": "1", "amount_fen": 100 * WAN})
    assert len(told(people.buyer_user, "delivery_awaits_acceptance")) == 1
    assert mails_to(people.buyer_user) == []
    assert_told_once(people.buyer_colleague, "delivery_awaits_acceptance")
    notifications.set_mail_categories(db.session, people.buyer_user,
                                      {"categories": ["action", "money", "deal_news", "saved_searches"]})
    assert notifications.mail_categories_on(db.session, people.buyer_user) == list(notifications.OPTIONAL_CATEGORIES)


def test_account_mail_cannot_be_turned_off(make_user):
    admin, applicant = make_user("admin"), make_user("researcher", membership_status=ApprovalStatus.PENDING)
    notifications.set_mail_categories(db.session, applicant, {"categories": [], "action_off_understood": True})
    accounts.decide_membership(db.session, admin, applicant.id, True)
    assert_told_once(applicant, "membership_approved")


def test_the_mail_is_written_in_the_recipients_language(registered_deal):
    deal, researcher, _brokers = registered_deal
    payer = db.session.scalar(select(User).where(User.organisation_id == deal.transferee_id))
    payer.locale = "en"
    deal_payments.record_deal_payment(db.session, researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
    notice = assert_told_once(payer, "payment_awaits_confirmation")
    assert notice.title == f"Proceeds awaiting your confirmation: {deal.title}"


def test_kinds_map_to_categories():
    assert mail_category("payment_awaits_confirmation") == MailCategory.ACTION
    assert mail_category("introduction_awaits_answer") == MailCategory.ACTION
    assert mail_category("award_paid") == MailCategory.MONEY
    assert mail_category("deal_payment_dispute") == MailCategory.MONEY
    assert mail_category("deal_signed") == MailCategory.DEAL_NEWS
    assert mail_category("membership_refused") == MailCategory.ACCOUNT
    assert mail_category("listing_published") is None and mail_category("match_found") is None


def test_an_in_app_only_kind_queues_no_mail(make_user):
    user = make_user("researcher")
    before = mail_count()
    notifications.notify(db.session, user.id, "listing_published", "已发布：测试", link="/achievements/1")
    db.session.flush()
    assert mail_count() == before and len(told(user, "listing_published")) == 1


# ---------------------------------------------------------------- one unit of work


def test_a_rolled_back_request_queues_no_mail(client, login, make_user, monkeypatch):
    admin, applicant = make_user("admin"), make_user("researcher", membership_status=ApprovalStatus.PENDING)
    login(admin)

    def fail_after_the_service(*_args, **_kwargs):
        raise RuntimeError("the request fails after the decision")

    monkeypatch.setattr("market.admin.views.flash", fail_after_the_service)
    assert client.post(f"/admin/members/{applicant.id}/approve").status_code == 500
    db.session.expire_all()
    assert db.session.get(User, applicant.id).membership_status == ApprovalStatus.PENDING
    assert told(applicant, "membership_approved") == [] and mails_to(applicant) == []
    monkeypatch.undo()
    assert client.post(f"/admin/members/{applicant.id}/approve").status_code == 302
    db.session.expire_all()
    assert_told_once(applicant, "membership_approved")


def test_demo_and_disabled_accounts_are_not_mailed(make_user):
    admin = make_user("admin")
    demo = make_user("researcher", membership_status=ApprovalStatus.PENDING, is_demo=True)
    disabled = make_user("researcher", membership_status=ApprovalStatus.PENDING, is_active_account=False)
    for user in (demo, disabled):
        accounts.decide_membership(db.session, admin, user.id, True)
        assert len(told(user, "membership_approved")) == 1 and mails_to(user) == []
