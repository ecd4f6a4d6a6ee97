"""The demo data loads completely, meets PRODUCT.md's minimums, and loading it twice changes nothing."""
from sqlalchemy import func, select

from market.accounts.models import Organisation, OrganisationKind, Role, User, VerificationStatus
from market.achievements.models import Achievement
from market.awards.models import Award
from market.deals.models import Deal, DealBrokerRequest, DealSigning
from market.demands.models import Demand
from market.demo_deals import load_demo_deals
from market.extensions import db
from market.listings.models import ListingEvent, SearchTerm
from market.seeding import load_demo_data
from market.taxonomy.models import Field, Valley
from tests.conftest import PASSWORD


def _count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def _fingerprint() -> dict:
    return {model.__tablename__: _count(model) for model in (Organisation, User, Achievement, Demand, ListingEvent,
                                                             SearchTerm, Field, Valley, Award)} | {
        "titles": sorted(db.session.scalars(select(Achievement.title))),
        "demand_budgets": sorted((d.source_key, d.budget_min_fen) for d in db.session.scalars(select(Demand))),
    }


def test_demo_data_meets_the_product_minimums_and_loading_twice_changes_nothing(app):
    counts = load_demo_data(db.session, "demo-password-1", password_profile="fast",
                            upload_folder=app.config["UPLOAD_FOLDER"])
    assert counts["achievements"] >= 200 and counts["demands"] >= 80
    assert counts["residencies"] >= 8 and counts["verifications"] >= 8
    resident = db.session.scalars(select(Organisation).where(Organisation.resident_since.is_not(None))).all()
    assert resident and all(org.is_resident_on(org.resident_since) for org in resident)
    assert _count(Organisation, Organisation.verification_status == VerificationStatus.VERIFIED) == counts["verifications"]
    assert _count(Organisation, Organisation.kind.in_([OrganisationKind.UNIVERSITY, OrganisationKind.INSTITUTE])) >= 10
    assert _count(Organisation, Organisation.kind == OrganisationKind.ENTERPRISE) >= 30
    assert _count(Organisation, Organisation.kind == OrganisationKind.AGENCY) >= 3
    assert _count(User, User.role == Role.BROKER) >= 3
    assert _count(Field) >= 60 and _count(Valley) == 11
    top_fields = db.session.scalars(select(Field.code).where(Field.parent_id.is_(None))).all()
    for code in top_fields:
        in_field = select(Field.id).where((Field.code == code) | Field.code.like(code + ".%"))
        assert _count(Achievement, Achievement.field_id.in_(in_field)) >= 10, code
        assert _count(Demand, Demand.field_id.in_(in_field)) >= 4, code
    assert _count(Achievement, Achievement.is_demo.is_(False)) == 0
    assert load_demo_deals(db.session) >= 4
    assert db.session.scalar(select(func.count()).select_from(Award).where(Award.granted_fen > 0)) >= 4
    requests = db.session.execute(select(DealBrokerRequest.kind, DealBrokerRequest.status, Deal.broker_id)
                                  .join(Deal, Deal.id == DealBrokerRequest.deal_id).order_by(DealBrokerRequest.id)).all()
    assert sorted((kind, status, broker is not None) for kind, status, broker in requests) == [
        ("ask", "pending", False), ("invite", "accepted", True)]
    assert db.session.scalar(select(func.count()).select_from(Deal).where(Deal.broker_id.is_not(None))) == 1
    signings = db.session.execute(select(DealSigning.status, Deal.stage).join(Deal, Deal.id == DealSigning.deal_id)
                                  .order_by(DealSigning.id)).all()
    assert [(str(status), str(stage)) for status, stage in signings] == [
        ("confirmed", "performance"), ("recorded", "notice")], "signings seed through the flow, one awaits its buyer"
    brokered = db.session.scalar(select(Deal).where(Deal.broker_id.is_not(None)))
    assert (brokered.fee_rate_bp, brokered.fee_paid_fen) == (300, brokered.agreed_amount_fen * 300 // 10000)
    before = _fingerprint()
    again = load_demo_data(db.session, "demo-password-1", password_profile="fast",
                           upload_folder=app.config["UPLOAD_FOLDER"])
    assert set(again.values()) == {0}
    assert load_demo_deals(db.session) == 0
    assert _fingerprint() == before


def test_every_valley_has_at_most_three_key_fields(app):
    assert all(len(valley.key_fields) <= 3 for valley in db.session.scalars(select(Valley)))
    assert [f.name for f in db.session.get(Valley, "taiyuan").key_fields] == ["先进装备制造", "能源和新能源", "半导体和新材料"]
    assert [f.name for f in db.session.get(Valley, "jincheng").key_fields] == ["光机电", "数字经济", "文旅康养"]


def test_demo_users_cannot_log_in_outside_demo_mode(app, client, make_user):
    user = make_user("researcher", is_demo=True)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "邮箱或密码错误" in response.get_data(as_text=True)
    app.config["DEMO_MODE"] = True
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
