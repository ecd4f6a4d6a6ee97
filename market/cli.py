"""Flask command-line commands: database set-up, seed data, admin accounts, housekeeping."""
import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from market.extensions import db


@click.command("init-db")
@with_appcontext
def init_db():
    """Apply every database migration (creates the schema on an empty database)."""
    _upgrade_unless_current()


def _upgrade_unless_current() -> None:
    from market.startup import migrations_current

    if not migrations_current():
        upgrade()
    click.echo("database is up to date")


@click.command("seed")
@click.option("--demo/--no-demo", default=False, help="Also load the demo organisations, users and listings.")
@with_appcontext
def seed(demo: bool):
    """Load the field tree and valleys, and with --demo the demo data (loading twice changes nothing)."""
    _seed(demo)


def _seed(demo: bool) -> None:
    from market.demo_deals import load_demo_deals
    from market.seeding import load_demo_data, load_reference_data
    from market.startup import remember_seed, seed_loaded

    if seed_loaded(db.session, demo=demo):
        click.echo("seed data already loaded: nothing added")
        return
    counts = load_reference_data(db.session)
    if demo:
        counts |= load_demo_data(db.session, current_app.config["DEMO_PASSWORD"],
                                 password_profile=current_app.config["PASSWORD_HASH_PROFILE"],
                                 upload_folder=current_app.config["UPLOAD_FOLDER"])
        counts["deals"] = load_demo_deals(db.session)
    remember_seed(db.session, demo=demo)
    click.echo("added: " + ", ".join(f"{name} {count}" for name, count in counts.items()))


@click.command("prepare")
@click.option("--demo/--no-demo", default=False, help="Also load the demo data.")
@click.option("--pairs-days", default=30, show_default=True, type=click.IntRange(min=0, max=3650),
              help="Pairs for the broker board cover listings published in the last N days (0: none).")
@with_appcontext
def prepare(demo: bool, pairs_days: int):
    """What a start needs, each step only if not yet done: migrations (init-db), seed data (seed), the search table,
    match indexes and pairs (reindex)."""
    from market.matching.staleness import rebuild_if_stale
    from market.unit_of_work import unit_of_work

    _upgrade_unless_current()
    with unit_of_work():
        _seed(demo)  # committed first: the match indexes are built from what is committed
    for line in rebuild_if_stale(db.session, current_app.config["MATCH_INDEX_PATH"], pairs_days=pairs_days).lines:
        click.echo(line)


@click.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True, default="平台管理员")
@with_appcontext
def create_admin(email: str, name: str):
    """Create a platform admin (asks for the password)."""
    from market.accounts.services import create_admin as make_admin
    from market.errors import DomainError

    password = click.prompt("Password", hide_input=True, confirmation_prompt=True) if click.get_text_stream("stdin").isatty() \
        else click.get_text_stream("stdin").readline().rstrip("\n")
    try:
        user = make_admin(db.session, email=email, name=name, password=password)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"admin created: {user.email}")


@click.command("expire-listings")
@with_appcontext
def expire_listings():
    """Mark listings published more than twelve months ago as expired (run daily)."""
    from market.listings.services import expire_listings as expire

    click.echo(f"expired: {expire(db.session)}")


@click.command("remind-confirmations")
@with_appcontext
def remind_confirmations():
    """Remind the side that must confirm each payment, pre-order agreement or signing recorded long enough ago and
    still unconfirmed, and the admins of each registration still waiting for verification (run daily; each record at
    most once a day)."""
    from market.deals.payments import remind_deal_payment_confirmations
    from market.deals.registrations import remind_registration_verifications
    from market.deals.signing import remind_signing_confirmations
    from market.preorders.proposals import remind_agreement_confirmations
    from market.preorders.services import remind_payment_confirmations
    from market.timeutil import utcnow

    now = utcnow()
    deals = remind_deal_payment_confirmations(db.session, now)
    preorders = remind_payment_confirmations(db.session, now)
    agreements = remind_agreement_confirmations(db.session, now)
    signings = remind_signing_confirmations(db.session, now)
    registrations = remind_registration_verifications(db.session, now)
    click.echo(f"reminded: deal payments {deals}, pre-order payments {preorders}, pre-order agreements {agreements}, "
               f"deal signings {signings}, registrations {registrations}")


@click.command("send-mail")
@with_appcontext
def send_mail():
    """Send the outbox through the configured SMTP server (a worker also drains it after each mail is queued)."""
    from market.accounts.mail_delivery import send_outbox

    config = current_app.config
    if not config["MAIL_SERVER"]:
        raise click.ClickException("MAIL_SERVER is not configured; mails stay in the outbox")
    delivery = send_outbox(db.session, config)
    if delivery.error:
        # Exit keeps the unit of work's writes: the mails already sent stay marked as sent.
        click.echo(f"sent: {delivery.sent}; stopped: {delivery.error}", err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"sent: {delivery.sent}")


def register_commands(app: Flask) -> None:
    """Attach every command to the app's CLI."""
    from market.awards.commands import check_ledger, policy_cli
    from market.backup import backup, restore
    from market.jobs.commands import jobs_cli
    from market.matching.commands import match_eval, suggest_field
    from market.matching.index_commands import reindex

    for command in (init_db, seed, prepare, create_admin, expire_listings, remind_confirmations, send_mail, check_ledger, reindex, match_eval,
                    suggest_field, policy_cli, backup, restore, jobs_cli):
        app.cli.add_command(command)
