"""One rule of what visitors see drives every count: home figures, browse totals, facets, the API, organisation and
valley pages agree when expired, unpublished and sold listings are present."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from market.extensions import db
from market.listings import services as listings
from market.listings.models import listing_model
from market.listings.queries import visible_to_public
from market.listings.vocabulary import ListingKind, ListingStatus
from market.timeutil import utcnow


@pytest.fixture
def mixed_listings(make_user, make_achievement, make_demand):
    """Per kind: two on offer, one past its expiry but still marked published, one marked expired, one pending, one
    draft; and one sold achievement."""
    researcher, enterprise = make_user("researcher"), make_user("enterprise")
    made = {ListingKind.ACHIEVEMENT: [], ListingKind.DEMAND: []}
    for kind, make, owner in ((ListingKind.ACHIEVEMENT, make_achievement, researcher),
                              (ListingKind.DEMAND, make_demand, enterprise)):
        for number in range(6):
            status = "published" if number < 4 else ("pending" if number == 4 else "draft")
            made[kind].append(make(owner=owner, status=status, title=f"可见性测试{kind.value}{number}"))
        lapsed, marked = made[kind][2], made[kind][3]
        lapsed.expires_at = utcnow() - timedelta(days=1)
        marked.expires_at = utcnow() - timedelta(days=2)
        marked.status = ListingStatus.EXPIRED
    sold = make_achievement(owner=researcher, title="可见性测试已成交")
    sold.status = ListingStatus.DEALT
    db.session.commit()
    return {"researcher": researcher, "enterprise": enterprise, "listings": made}


def _shown_total(html: str) -> int:
    return int(re.search(r'id="result-count">共 (\d+) 条', html).group(1))


def test_home_browse_api_organisation_and_valley_counts_agree(client, mixed_listings):
    home = client.get("/").get_data(as_text=True)
    figures = [int(n) for n in re.findall(r'<div class="stat text-brand">(\d+)</div>', home)]
    valleys = client.get("/valleys").get_data(as_text=True)
    for kind, path, figure, owner, word in ((ListingKind.ACHIEVEMENT, "achievements", figures[0], "researcher", "成果"),
                                            (ListingKind.DEMAND, "demands", figures[1], "enterprise", "需求")):
        browse = _shown_total(client.get(f"/{path}").get_data(as_text=True))
        api = client.get(f"/api/v1/{path}").get_json()["total"]
        organisation = client.get(f"/organisations/{mixed_listings[owner].organisation_id}").get_data(as_text=True)
        on_page = sum(organisation.count(f"可见性测试{kind.value}{number}") for number in range(6))
        assert (figure, browse, api, on_page) == (2, 2, 2, 2), kind
        assert sum(int(n) for n in re.findall(word + r" (\d+)</a>", valleys)) == 2, kind
    assert figures[3] == 1  # the sold achievement counts as a success case, not as on offer
    assert _shown_total(client.get("/achievements?sold=1").get_data(as_text=True)) == 1


def test_facets_count_only_what_visitors_see(client, mixed_listings):
    from market.listings.queries import SearchParams, search_listings

    result = search_listings(db.session, ListingKind.DEMAND, SearchParams())
    assert result.total == 2
    assert sum(result.facets["field"].values()) == 2 and sum(result.facets["mode"].values()) == 2


def test_the_record_rule_and_the_sql_rule_agree(app, mixed_listings):
    later = utcnow() + timedelta(days=400)
    for kind in ListingKind:
        model = listing_model(kind)
        every = db.session.scalars(select(model)).all()
        for moment in (utcnow(), later):
            visible = set(db.session.scalars(select(model.id).where(visible_to_public(model, moment))))
            by_record = {item.id for item in every if item.status == ListingStatus.PUBLISHED
                         and (item.expires_at is None or item.expires_at > moment)}
            assert visible == by_record
        assert visible == set()  # a year and more on, every one of them has expired
        now_visible = set(db.session.scalars(select(model.id).where(visible_to_public(model))))
        assert now_visible == {item.id for item in every if item.is_public}
        assert len(now_visible) == 2


def test_an_expired_listing_drops_out_of_every_count_at_once(client, mixed_listings, make_user):
    demand = mixed_listings["listings"][ListingKind.DEMAND][0]
    demand.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert client.get("/api/v1/demands").get_json()["total"] == 1
    assert _shown_total(client.get("/demands").get_data(as_text=True)) == 1
    figures = [int(n) for n in re.findall(r'<div class="stat text-brand">(\d+)</div>',
                                          client.get("/").get_data(as_text=True))]
    assert figures[1] == 1
    admin = make_user("admin")
    listings.renew_listing(db.session, admin, ListingKind.DEMAND, demand.id)
    db.session.commit()
    assert client.get("/api/v1/demands").get_json()["total"] == 2
