"""Achievement rules: who may list one, what a new one defaults to; creating and editing run the shared write path."""
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from market.accounts.models import Organisation, Role, User
from market.achievements.content import WHOLE_SHARE_BP, AchievementContent
from market.achievements.models import Achievement
from market.errors import PermissionDeniedError
from market.listings import editing
from market.listings.vocabulary import ListingKind
from market.security import can_create


def require_achievement_author(actor: User) -> None:
    """Only approved researchers and enterprise users may list achievements."""
    if not (can_create(actor, Role.RESEARCHER) or can_create(actor, Role.ENTERPRISE)):
        raise PermissionDeniedError(_("只有已审核机构的科研人员或企业用户可以发布科技成果。"))


def _owned_by_organisation(achievement: Achievement, organisation: Organisation) -> None:
    if not achievement.owners:
        achievement.owners = [{"name": organisation.name, "share_bp": WHOLE_SHARE_BP}]


ACHIEVEMENTS = editing.ListingType(kind=ListingKind.ACHIEVEMENT, content=AchievementContent,
                                   require_author=require_achievement_author, complete_new=_owned_by_organisation)


def clean_achievement(session: Session, data: dict) -> dict:
    """Validate achievement content (from a form, the API or a sheet); clean values or ValidationError."""
    return editing.clean_listing(session, ACHIEVEMENTS, data)


def build_achievement(session: Session, actor: User, clean: dict, *, submit: bool, source_key: str | None = None,
                      organisation: Organisation | None = None) -> Achievement:
    """Add a new achievement from clean values (no commit); an admin importing for an organisation passes it."""
    return editing.build_listing(session, actor, ACHIEVEMENTS, clean, submit=submit, organisation=organisation,
                                 source_key=source_key)


def create_achievement(session: Session, actor: User, data: dict, *, submit: bool = False) -> Achievement:
    """A researcher (or company member) lists an achievement as a draft, or straight into review."""
    return editing.create_listing(session, actor, ACHIEVEMENTS, data, submit=submit)


def update_achievement(session: Session, actor: User, achievement_id: int, data: dict, *,
                       submit: bool = False) -> Achievement:
    """Edit an achievement; a published one goes back to review, as does any edit sent with submit."""
    return editing.update_listing(session, actor, ACHIEVEMENTS, achievement_id, data, submit=submit)
