"""Temporary: screenshots of the registration queue and the deal page (not committed)."""
from datetime import date

from market.extensions import db
from tests.payments import record_and_confirm_deal_payment

WAN = 1_000_000


def test_shots(open_page, sign_in, make_registered_deal, deal_world, fresh_db):
    deal, researcher, _ = make_registered_deal(registration_verified=False)
    record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
    db.session.commit()
    for name, viewport in (("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 390, "height": 844})):
        page = open_page(viewport=viewport)
        sign_in(page, deal_world.admin.email)
        page.goto("/admin/registrations")
        page.screenshot(path=f"/tmp/holds_queue_{name}.png", full_page=True)
        page.goto(f"/deals/{deal.id}#registrations")
        page.locator("#registrations").scroll_into_view_if_needed()
        page.screenshot(path=f"/tmp/holds_deal_{name}.png", full_page=True)
