"""Listings after a deal: the owner's grants of the confidential part, the grantee's confidentiality acknowledgement,
revocation, sold achievements on show as success cases, followed listings kept, and licensing again after 转让."""
import io

import pytest
from sqlalchemy import select

from market.deals.bids import accept_bid, counter_bid, place_bid
from market.deals.models import DealStage
from market.deals.responses import accept_response, respond_to_demand
from market.errors import InvalidStateError, NotFoundError, PermissionDeniedError, ValidationError
from market.extensions import db
from market.listings import access, queries
from market.listings import services as listings
from market.listings.models import ConfidentialGrant, ConfidentialityAcknowledgement, ListingEvent
from market.listings.vocabulary import ListingKind, ListingStatus
from market.pages.stats import platform_figures

WAN = 1_000_000
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def confidential_file(app, achievement, owner):
    """A confidential PDF on the achievement."""
    return listings.add_attachment(db.session, owner, ListingKind.ACHIEVEMENT, achievement.id, filename="配方.pdf",
                                   stream=io.BytesIO(PDF), upload_folder=app.config["UPLOAD_FOLDER"],
                                   max_bytes=1024 * 1024, is_confidential=True)


def sees(user, achievement) -> bool:
    return access.can_open_confidential(db.session, user, achievement)


def acknowledge(user, achievement) -> None:
    access.acknowledge_confidentiality(db.session, user, achievement, accepted=True)
    db.session.commit()


def test_accepting_a_bid_opens_the_part_to_the_bidder_only_after_each_person_acknowledges(
        app, deal_world, make_deal, make_user):
    world = deal_world
    attachment = confidential_file(app, world.achievement, world.researcher)
    deal = make_deal(DealStage.INTENT, broker=None)
    grant = db.session.scalar(select(ConfidentialGrant))
    assert (grant.organisation_id, grant.source, grant.deal_id) == (world.buyer.organisation_id, "bid", deal.id)
    assert grant.granted_by_id == world.researcher.id
    assert not sees(world.buyer, world.achievement)
    assert access.confidential_standing(db.session, world.buyer, world.achievement).awaiting == grant
    assert attachment not in listings.list_attachments(db.session, world.buyer, world.achievement)
    with pytest.raises(NotFoundError):
        listings.get_attachment(db.session, world.buyer, attachment.id)
    with pytest.raises(ValidationError) as refused:
        access.acknowledge_confidentiality(db.session, world.buyer, world.achievement, accepted=False)
    assert "accepted" in refused.value.fields

    acknowledge(world.buyer, world.achievement)
    row = db.session.scalar(select(ConfidentialityAcknowledgement))
    assert (row.grant_id, row.user_id, row.statement_version) == (grant.id, world.buyer.id,
                                                                  access.CONFIDENTIALITY_STATEMENT_VERSION)
    assert row.acknowledged_at is not None
    assert sees(world.buyer, world.achievement)
    assert attachment in listings.list_attachments(db.session, world.buyer, world.achievement)
    assert listings.get_attachment(db.session, world.buyer, attachment.id) == attachment
    with pytest.raises(InvalidStateError):
        access.acknowledge_confidentiality(db.session, world.buyer, world.achievement, accepted=True)

    colleague = make_user("enterprise", organisation=world.buyer.organisation)
    assert not sees(colleague, world.achievement), "each person accepts the statement before the first look"
    for stranger in (world.outsider, world.broker, None):
        assert not sees(stranger, world.achievement)
    with pytest.raises(PermissionDeniedError):
        access.acknowledge_confidentiality(db.session, world.outsider, world.achievement, accepted=True)


def test_the_buyer_accepting_the_owners_counter_offer_is_granted_by_that_round(deal_world):
    world = deal_world
    bid = place_bid(db.session, world.buyer, world.achievement.id, amount_fen=80 * WAN, mode="license_exclusive")
    counter_bid(db.session, world.researcher, bid.id, amount_fen=90 * WAN, mode="license_exclusive")
    accept_bid(db.session, world.buyer, bid.id, version_number=2)
    grant = db.session.scalar(select(ConfidentialGrant))
    assert (grant.organisation_id, grant.granted_by_id) == (world.buyer.organisation_id, world.researcher.id)


def test_owner_grants_through_the_service_and_outsiders_cannot(deal_world, make_user):
    world = deal_world
    broker = make_user("broker")
    with pytest.raises(PermissionDeniedError):
        access.grant_confidential_access(db.session, world.outsider, world.achievement, broker, source="introduction")
    with pytest.raises(InvalidStateError):
        access.grant_confidential_access(db.session, world.researcher, world.achievement,
                                         world.researcher.organisation, source="introduction")
    grant = access.grant_confidential_access(db.session, world.researcher, world.achievement, broker,
                                             source="introduction")
    again = access.grant_confidential_access(db.session, world.researcher, world.achievement, broker,
                                             source="introduction")
    assert again.id == grant.id and grant.user_id == broker.id
    acknowledge(broker, world.achievement)
    assert sees(broker, world.achievement)


def test_the_owner_sees_who_has_access_and_revokes_it(deal_world, make_deal):
    world = deal_world
    make_deal(DealStage.INTENT, broker=None)
    acknowledge(world.buyer, world.achievement)
    grants = access.list_grants(db.session, world.researcher, world.achievement)
    assert [grant.grantee_name for grant in grants] == [world.buyer.organisation.name]
    assert [ack.user_id for ack in grants[0].acknowledgements] == [world.buyer.id]
    assert access.list_grants(db.session, world.buyer, world.achievement) == []
    with pytest.raises(NotFoundError):
        access.revoke_confidential_access(db.session, world.buyer, grants[0].id)

    access.revoke_confidential_access(db.session, world.researcher, grants[0].id)
    db.session.commit()
    assert grants[0].revoked_by_id == world.researcher.id and grants[0].revoked_at is not None
    assert not sees(world.buyer, world.achievement)
    assert access.confidential_standing(db.session, world.buyer, world.achievement).awaiting is None
    with pytest.raises(InvalidStateError):
        access.revoke_confidential_access(db.session, world.researcher, grants[0].id)


def test_a_sold_achievement_stays_on_show_and_opens_whole_to_the_deals_parties_and_brokers(
        app, deal_world, make_deal):
    world = deal_world
    attachment = confidential_file(app, world.achievement, world.researcher)
    listings.follow_listing(db.session, world.outsider, ListingKind.ACHIEVEMENT, world.achievement.id)
    deal = make_deal(DealStage.COMPLETED, mode="license_exclusive")
    assert world.achievement.status == ListingStatus.DEALT

    for viewer in (None, world.outsider, world.buyer, world.broker, world.other_broker):
        assert listings.get_listing(db.session, viewer, ListingKind.ACHIEVEMENT, world.achievement.id)
    assert [row.id for row in listings.list_followed(db.session, world.outsider)] == [world.achievement.id]

    for party in (world.buyer, world.broker):
        assert not sees(party, world.achievement), "the statement comes first, for the parties too"
        acknowledge(party, world.achievement)
        assert sees(party, world.achievement)
        assert listings.get_attachment(db.session, party, attachment.id) == attachment
    for stranger in (None, world.outsider, world.other_broker):
        assert not sees(stranger, world.achievement)
        with pytest.raises(NotFoundError):
            listings.get_attachment(db.session, stranger, attachment.id)

    lasting = db.session.scalars(select(ConfidentialGrant).order_by(ConfidentialGrant.id)).all()
    assert {(grant.organisation_id, grant.user_id) for grant in lasting} == {
        (world.buyer.organisation_id, None), (None, world.broker.id)}
    assert all(grant.irrevocable and grant.deal_id == deal.id for grant in lasting)
    with pytest.raises(InvalidStateError):
        access.revoke_confidential_access(db.session, world.researcher, lasting[0].id)
    access.revoke_confidential_access(db.session, world.admin, lasting[0].id)


def test_the_sold_count_is_the_number_of_success_cases_browsed(deal_world, make_deal, make_achievement):
    make_deal(DealStage.COMPLETED, mode="license_exclusive")
    make_achievement(title="另一项在售成果")
    make_achievement(status="pending", title="待审核成果")
    figures = platform_figures(db.session)
    sold = queries.search_listings(db.session, ListingKind.ACHIEVEMENT, queries.SearchParams(sold=True))
    on_offer = queries.search_listings(db.session, ListingKind.ACHIEVEMENT, queries.SearchParams())
    assert (figures["dealt"], figures["achievements"]) == (sold.total, on_offer.total) == (1, 1)
    assert [item.id for item in sold.items] == [deal_world.achievement.id]
    assert deal_world.achievement.id not in [item.id for item in on_offer.items]


def test_accepting_a_response_opens_the_named_achievement_to_the_demand_owner(deal_world, make_demand):
    world = deal_world
    demand = make_demand(owner=world.buyer)
    response = respond_to_demand(db.session, world.researcher, demand.id, proposal="以吸附剂配方承接该需求。",
                                 amount_fen=50 * WAN, achievement_id=world.achievement.id)
    accept_response(db.session, world.buyer, response.id)
    grant = db.session.scalar(select(ConfidentialGrant))
    assert (grant.organisation_id, grant.source, grant.granted_by_id) == (
        world.buyer.organisation_id, "response", world.researcher.id)


def relicense_events(achievement) -> list[ListingEvent]:
    return db.session.scalars(select(ListingEvent).where(ListingEvent.listing_id == achievement.id,
                                                         ListingEvent.action == "relicense")).all()


def test_an_achievement_transferred_outright_is_licensed_again_only_with_the_owners_confirmation(
        deal_world, make_deal, make_user):
    world = deal_world
    transfer = make_deal(DealStage.SIGNED, mode="assignment")
    second = make_user("enterprise")
    bid = place_bid(db.session, second, world.achievement.id, amount_fen=30 * WAN, mode="license_exclusive")
    with pytest.raises(InvalidStateError) as warned:
        accept_bid(db.session, world.researcher, bid.id, version_number=1)
    assert f"#{transfer.id}" in warned.value.message and transfer.transferee.name in warned.value.message
    assert relicense_events(world.achievement) == []

    counter_bid(db.session, world.researcher, bid.id, amount_fen=35 * WAN, mode="license_exclusive")
    with pytest.raises(InvalidStateError):
        accept_bid(db.session, second, bid.id, version_number=2, confirm_relicense=True)

    counter_bid(db.session, second, bid.id, amount_fen=32 * WAN, mode="license_exclusive")
    deal = accept_bid(db.session, world.researcher, bid.id, version_number=3, confirm_relicense=True)
    assert deal.stage == DealStage.INTENT
    [event] = relicense_events(world.achievement)
    assert event.actor_id == world.researcher.id and f"#{transfer.id}" in event.comment


def test_a_completed_transfer_keeps_its_old_bids_from_opening_a_licence_unconfirmed(deal_world, make_deal, make_user):
    world = deal_world
    late = make_user("enterprise")
    bid = place_bid(db.session, late, world.achievement.id, amount_fen=30 * WAN, mode="assignment")
    make_deal(DealStage.COMPLETED, mode="assignment")
    assert world.achievement.status == ListingStatus.DEALT
    with pytest.raises(InvalidStateError):
        accept_bid(db.session, world.researcher, bid.id, version_number=1)
    accept_bid(db.session, world.researcher, bid.id, version_number=1, confirm_relicense=True)
    assert len(relicense_events(world.achievement)) == 1


def test_a_licence_is_no_transfer_and_needs_no_confirmation(deal_world, make_deal, make_user):
    world = deal_world
    make_deal(DealStage.SIGNED, mode="license_exclusive")
    bid = place_bid(db.session, make_user("enterprise"), world.achievement.id, amount_fen=30 * WAN,
                    mode="license_exclusive")
    assert accept_bid(db.session, world.researcher, bid.id, version_number=1).stage == DealStage.INTENT
    assert relicense_events(world.achievement) == []


def test_a_response_naming_an_achievement_transferred_outright_cannot_be_accepted(
        deal_world, make_deal, make_demand, make_user):
    world = deal_world
    company = make_user("enterprise")
    demand = make_demand(owner=company)
    response = respond_to_demand(db.session, world.researcher, demand.id, proposal="以该成果承接需求。",
                                 achievement_id=world.achievement.id)
    make_deal(DealStage.SIGNED, mode="assignment")
    with pytest.raises(InvalidStateError):
        accept_response(db.session, company, response.id)


def test_the_api_shows_a_sold_achievement_and_its_confidential_part_as_the_pages_do(client, deal_world, make_deal):
    from tests.api_requests import bearer

    world = deal_world
    make_deal(DealStage.COMPLETED, mode="license_exclusive")
    path = f"/api/v1/achievements/{world.achievement.id}"

    def body(user):
        response = client.get(path, headers=bearer(user))
        assert response.status_code == 200
        return response.get_json()

    for viewer in (None, world.outsider, world.buyer):
        assert "description_confidential" not in body(viewer) and body(viewer)["status"]["code"] == "dealt"
    acknowledge(world.buyer, world.achievement)
    seen = body(world.buyer)
    assert seen["description_confidential"] == "吸附剂配方与切换时序参数。"
    assert "review" not in seen, "a grantee reads the confidential part, not the owner's review notes"
    assert "review" in body(world.researcher)
