"""The audit log's capture: audited changes become entries with only the changed fields, in the same unit of work."""
import pytest
from sqlalchemy import delete, event, inspect, select, update

from market.accounts.models import ApiToken, Role, SecondFactor, User
from market.accounts.services import create_api_token
from market.audit.audited import AUDITED, Audited, is_excluded
from market.audit.models import AuditEntry, AuditEntryImmutableError
from market.deals import payments as deal_payments
from market.deals.models import Deal, DealStage
from market.deals.pipeline import advance_deal, update_terms
from market.extensions import db
from market.unit_of_work import savepoint, unit_of_work
from tests.conftest import WAN


def entries(action: str | None = None, object_id: int | None = None) -> list[AuditEntry]:
    """The stored entries, oldest first, optionally of one action and object."""
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == object_id)
    return list(db.session.scalars(query))


def test_declared_fields_exist_and_no_secret_is_declared():
    tables = {table.name: table for table in db.metadata.sorted_tables}
    for audited in AUDITED:
        columns = set(tables[audited.table].columns.keys())
        assert set(audited.fields) <= columns, f"{audited.table}: {set(audited.fields) - columns}"
        assert not [name for name in audited.fields if is_excluded(name)]
        secret_columns = {name for name in columns if is_excluded(name)}
        assert not secret_columns & set(audited.fields)
    assert {"password_hash", "token_hash", "encrypted_secret", "code_hash"} <= {
        column.name for table in tables.values() for column in table.columns if is_excluded(column.name)}


def test_a_declaration_that_names_a_secret_column_loses_it():
    audited = Audited("users", "user", ("email", "password_hash", "totp_secret", "session_token"),
                      {"credentials": ("password_hash",)})
    assert audited.fields == ("email",)
    assert audited.groups["credentials"] == ()


def test_a_payment_confirmation_records_the_status_before_and_after(make_deal, deal_world):
    deal = make_deal(DealStage.REGISTERED)
    owner, buyer = deal_world.researcher, deal_world.buyer
    payment = deal_payments.record_deal_payment(db.session, owner, deal.id, amount_fen=10 * WAN,
                                                paid_on=deal.registered_on)
    [created] = entries("deal_payment.created", payment.id)
    assert created.before is None
    assert created.after["amount_fen"] == 10 * WAN and created.after["status"] == "recorded"
    assert created.after["recorded_by_id"] == owner.id

    deal_payments.confirm_deal_payment(db.session, buyer, payment.id)

    decisions = entries("deal_payment.confirmation", payment.id)
    status_change = next(entry for entry in decisions if "status" in entry.after)
    assert status_change.before["status"] == "recorded" and status_change.after["status"] == "confirmed"
    assert status_change.before["decided_by_id"] is None and status_change.after["decided_by_id"] == buyer.id
    assert "amount_fen" not in status_change.after and "amount_fen" not in status_change.before
    [paid] = entries("deal.paid", deal.id)
    assert (paid.before, paid.after) == ({"paid_fen": 0}, {"paid_fen": 10 * WAN})
    events = entries("policy_event.created")
    assert events[-1].after["event_type"] == "transfer_paid"
    assert events[-1].after["payload"]["amount_fen"] == 10 * WAN


def test_a_terms_change_records_only_the_changed_terms(make_deal, deal_world):
    deal = make_deal(DealStage.INTENT)
    version = deal.terms_version
    update_terms(db.session, deal_world.researcher, deal.id, agreed_amount_fen=150 * WAN, mode="assignment",
                 inventor_share_bp=deal.inventor_share_bp)
    [change] = entries("deal.terms", deal.id)[-1:]
    assert change.before == {"agreed_amount_fen": 100 * WAN, "terms_version": version}
    assert change.after == {"agreed_amount_fen": 150 * WAN, "terms_version": version + 1}
    assert change.object_type == "deal"


def test_a_stage_change_records_the_stage_before_and_after(make_deal, deal_world):
    deal = make_deal(DealStage.INTENT)
    before = len(entries("deal.stage", deal.id))
    advance_deal(db.session, deal_world.buyer, deal.id, DealStage.NEGOTIATION)
    moves = entries("deal.stage", deal.id)
    assert len(moves) == before + 1
    assert (moves[-1].before, moves[-1].after) == ({"stage": "intent"}, {"stage": "negotiation"})
    assert not entries("deal.terms", deal.id)[-1:] or entries("deal.terms", deal.id)[-1].id < moves[-1].id


def test_a_broker_seated_by_a_conditional_update_is_recorded(make_deal, deal_world):
    deal = make_deal(DealStage.INTENT)
    [seated] = entries("deal.broker", deal.id)
    assert (seated.before, seated.after) == ({"broker_id": None}, {"broker_id": deal_world.broker.id})


def test_a_bulk_update_that_matches_nothing_records_nothing(make_deal):
    deal = make_deal(DealStage.INTENT, broker=None)
    db.session.execute(update(Deal).where(Deal.id == deal.id, Deal.broker_id.is_not(None))
                       .values(broker_id=None).execution_options(synchronize_session=False))
    assert entries("deal.broker", deal.id) == []


def test_a_bulk_update_by_primary_key_records_each_row_that_changed(make_user):
    first, second, unchanged = make_user("researcher"), make_user("researcher"), make_user("broker")
    others = len(entries("user.role"))
    db.session.execute(update(User), [{"id": first.id, "role": Role.BROKER}, {"id": second.id, "role": Role.ENTERPRISE},
                                      {"id": unchanged.id, "role": Role.BROKER}])
    assert [(entry.object_id, entry.before, entry.after) for entry in entries("user.role")[others:]] == [
        (first.id, {"role": "researcher"}, {"role": "broker"}),
        (second.id, {"role": "researcher"}, {"role": "enterprise"})]
    db.session.expire_all()
    assert [db.session.get(User, user.id).role for user in (first, second, unchanged)] == [
        Role.BROKER, Role.ENTERPRISE, Role.BROKER]


def test_a_bulk_update_by_primary_key_of_unaudited_fields_records_nothing(make_user):
    user = make_user("researcher")
    count = len(entries())
    db.session.execute(update(User), [{"id": user.id, "phone": "13800000000"}])
    assert len(entries()) == count


def test_a_role_change_records_the_role_and_nothing_else(make_user):
    user = make_user("researcher")
    user.role, user.phone = Role.BROKER, "13800000000"
    db.session.flush()
    [change] = entries("user.role", user.id)
    assert (change.before, change.after) == ({"role": "researcher"}, {"role": "broker"})
    assert entries("user.changed", user.id) == []


def test_setting_a_field_to_its_own_value_records_nothing(make_user):
    user = make_user("researcher")
    count = len(entries())
    user.role = Role.RESEARCHER
    db.session.flush()
    assert len(entries()) == count


def test_credentials_are_never_written(make_user):
    user = make_user("broker", second_factor=True)
    token = create_api_token(db.session, user, "同步脚本")
    user.password_hash = "changed-hash-value"
    db.session.flush()
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    factor = db.session.scalar(select(SecondFactor).where(SecondFactor.user_id == user.id))
    [created] = entries("api_token.created", row.id)
    assert created.after == {"user_id": user.id, "name": "同步脚本", "prefix": token[:10]}
    [enrolled] = entries("second_factor.created", factor.id)
    assert set(enrolled.after) == {"user_id", "confirmed_at"}
    stored = " ".join(f"{entry.before} {entry.after}" for entry in entries())
    for secret in (token, row.token_hash, factor.encrypted_secret, factor.secret, "changed-hash-value",
                   user.password_hash):
        assert secret not in stored


def test_a_rolled_back_unit_of_work_leaves_no_entry(make_user):
    user = make_user("researcher")
    count = len(entries())
    with pytest.raises(RuntimeError), unit_of_work():
        db.session.get(User, user.id).role = Role.BROKER
        db.session.flush()
        assert len(entries("user.role", user.id)) == 1
        raise RuntimeError("the request failed")
    assert len(entries()) == count
    assert db.session.get(User, user.id).role == Role.RESEARCHER


def test_a_rolled_back_savepoint_takes_its_entries_with_it(make_user):
    user, other = make_user("researcher"), make_user("enterprise")
    with unit_of_work():
        other.role = Role.BROKER
        with pytest.raises(RuntimeError), savepoint():
            user.role = Role.BROKER
            db.session.flush()
            raise RuntimeError("refused")
    assert [entry.object_id for entry in entries("user.role")] == [other.id]


def test_entries_are_append_only(make_user):
    make_user("researcher")
    entry = entries()[-1]
    entry.action = "user.deleted"
    with pytest.raises(AuditEntryImmutableError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(AuditEntryImmutableError):
        db.session.flush()
    db.session.rollback()


def test_outside_a_request_the_actor_and_request_are_empty(make_user):
    user = make_user("researcher")
    [created] = entries("user.created", user.id)
    assert (created.actor_id, created.actor_display, created.request_id, created.ip_address) == (None, "", "", "")
    assert inspect(created).persistent


def test_unaudited_tables_write_nothing(make_user):
    user = make_user("researcher")
    count = len(entries())
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    user.locale, user.phone = "en", "13900000000"
    db.session.flush()
    assert len(entries()) == count


def test_a_flush_of_unaudited_changes_issues_no_extra_statement(make_user):
    user = make_user("researcher")
    db.session.refresh(user)  # loaded, as in a request
    statements = []

    def remember(_connection, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        user.locale = "en"
        db.session.flush()
        user.role = Role.BROKER
        db.session.flush()
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    assert [statement.split()[0] for statement in statements] == ["UPDATE", "UPDATE", "INSERT"]
