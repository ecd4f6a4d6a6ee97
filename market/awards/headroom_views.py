"""The money outlook panel on deal and agreement pages: the room left under each cap and what a payment would earn
now, for the parties, the deal's brokers and admins (the template helpers the panel calls)."""
from dataclasses import dataclass

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from market.awards.headroom import (
    AchievementRoom,
    DryRunLine,
    DryRunObstacle,
    Headroom,
    achievement_room,
    agreement_headroom,
    deal_headroom,
)
from market.awards.labels import CAP_SCOPE_DESCRIPTIONS, award_status_label, cap_scope_name
from market.awards.models import AwardStatus
from market.awards.permissions import may_see_achievement_room
from market.awards.services import stored_status
from market.awards.views import bp
from market.deals.models import Deal
from market.deals.permissions import may_see_money_outlook
from market.extensions import db
from market.money import MoneyFormatError, format_yuan, parse_yuan, yuan_input_value
from market.money_input import money_error_text
from market.preorders.models import PreorderAgreement
from market.preorders.permissions import may_view_agreement

TRIED_AMOUNT_ARG = "try_payment"
"""The query argument of the amount the user tries (yuan, as typed)."""


@dataclass(frozen=True)
class OutlookPanel:
    """What the panel shows: the headroom, the amount typed (to show it again) and why it was refused."""

    headroom: Headroom
    typed: str = ""
    error: str = ""

    @property
    def input_value(self) -> str:
        """What the amount field shows: the amount typed, else the unpaid remainder in yuan."""
        remainder = self.headroom.remainder_fen
        return self.typed or (yuan_input_value(remainder) if remainder and remainder > 0 else "")

    @property
    def obstacle_text(self) -> str:
        """Why no payment is tried, in words ('' when one is)."""
        return obstacle_text(self.headroom)


def obstacle_text(headroom: Headroom) -> str:
    """The sentence for a headroom's obstacle ('' when there is none)."""
    remainder = format_yuan(headroom.remainder_fen or 0)
    texts = {
        DryRunObstacle.NO_PRICE: _("价格尚未商定，商定后可测算回款可得的奖励。"),
        DryRunObstacle.CLOSED: _("该项目或协议已结束，不再测算。"),
        DryRunObstacle.NOT_IN_FORCE: _("协议经对方确认生效后才能测算。"),
        DryRunObstacle.FULLY_PAID: _("合同金额已全部到账，没有可测算的回款。"),
        DryRunObstacle.ABOVE_REMAINDER: _("测算金额超过尚未支付的 %(left)s，请改小后再试。", left=remainder),
        DryRunObstacle.REFUSED: _("按当前条款政策规则不受理这笔付款（例如中介人员人数或奖励比例超出规则），暂无法测算。"),
    }
    return str(texts.get(headroom.obstacle, ""))


def _tried_amount() -> tuple[int | None, str, str]:
    """The amount typed into the panel: (fen or None for the default, the text, the refusal message)."""
    typed = (request.args.get(TRIED_AMOUNT_ARG) or "").strip()
    if not typed:
        return None, "", ""
    try:
        fen = parse_yuan(typed)
    except MoneyFormatError as error:
        return None, typed[:40], money_error_text(error)
    if fen == 0:
        return None, typed, _("请输入大于零的金额。")
    return fen, typed, ""


@bp.app_template_global("deal_money_outlook")
def deal_money_outlook(deal: Deal) -> OutlookPanel | None:
    """The panel for a deal, or None when the signed-in user may not see it."""
    if not may_see_money_outlook(current_user, deal):
        return None
    fen, typed, error = _tried_amount()
    return OutlookPanel(deal_headroom(db.session, deal, fen), typed, error)


@bp.app_template_global("agreement_money_outlook")
def agreement_money_outlook(agreement: PreorderAgreement) -> OutlookPanel | None:
    """The panel for a pre-order agreement, or None when the signed-in user may not see it."""
    if not may_view_agreement(current_user, agreement):
        return None
    fen, typed, error = _tried_amount()
    return OutlookPanel(agreement_headroom(db.session, agreement, fen), typed, error)


@bp.app_template_global("achievement_money_room")
def achievement_money_room(achievement) -> AchievementRoom | None:
    """What any deal on the achievement could still earn its intermediaries, or None when the user may not see it."""
    if not may_see_achievement_room(current_user, achievement.organisation_id):
        return None
    return achievement_room(db.session, achievement.id)


@bp.app_template_global("cap_scope_text")
def cap_scope_text(scope: str) -> str:
    """What a cap counts over, in words."""
    found = CAP_SCOPE_DESCRIPTIONS.get(scope)
    return str(found) if found is not None else cap_scope_name(scope)


@bp.app_template_global("dry_run_status")
def dry_run_status(line: DryRunLine) -> str:
    """The status a tried award line would be kept in (a line granted nothing is nil), in words."""
    return award_status_label(stored_status(AwardStatus(line.status), line.granted_fen))
