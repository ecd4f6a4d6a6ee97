"""Achievement rules: what a valid achievement is, creating and editing one."""
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from market.accounts.models import Organisation, Role, User
from market.achievements.models import Achievement
from market.errors import InvalidStateError, PermissionDeniedError, ValidationError
from market.inputs import (
    FieldErrors,
    check_money_range,
    clean_choice,
    clean_choices,
    clean_fen,
    clean_int,
    clean_terms,
    clean_text,
)
from market.listings import services as listings
from market.listings.vocabulary import (
    STAGE_TRL_RANGES,
    IpKind,
    ListingKind,
    ListingStatus,
    PriceType,
    Stage,
    TransferMode,
)
from market.security import can_create
from market.taxonomy.services import find_field_by_code, valley_id_for
from market.timeutil import utcnow

EDITABLE_KEYS = frozenset({
    "title", "summary", "description_public", "description_confidential", "keywords", "field", "trl", "stage",
    "ip_items", "modes", "price_type", "price_min_fen", "price_max_fen", "owners", "inventors", "benefits",
    "scenarios",
})


def clean_achievement(session: Session, data: dict) -> dict:
    """Validate achievement input (from a form or the API); returns clean values or raises ValidationError."""
    errors = FieldErrors()
    unknown = set(data) - EDITABLE_KEYS
    for key in sorted(unknown):
        errors.add(key, _("未知字段。"))
    clean = {
        "title": clean_text(errors, "title", data.get("title"), max_len=200, required=True, multiline=False),
        "summary": clean_text(errors, "summary", data.get("summary"), max_len=1000, required=True),
        "description_public": clean_text(errors, "description_public", data.get("description_public"), max_len=10000),
        "description_confidential": clean_text(errors, "description_confidential",
                                               data.get("description_confidential"), max_len=10000),
        "keywords": clean_terms(errors, "keywords", data.get("keywords"), max_items=10, max_len=30),
        "trl": clean_int(errors, "trl", data.get("trl"), low=1, high=9, required=True),
        "stage": clean_choice(errors, "stage", data.get("stage"), Stage),
        "modes": clean_choices(errors, "modes", data.get("modes"), TransferMode, required=True),
        "price_type": clean_choice(errors, "price_type", data.get("price_type"), PriceType),
        "price_min_fen": clean_fen(errors, "price_min_fen", data.get("price_min_fen")),
        "price_max_fen": clean_fen(errors, "price_max_fen", data.get("price_max_fen")),
        "inventors": clean_terms(errors, "inventors", data.get("inventors"), max_items=30, max_len=30),
        "benefits": clean_text(errors, "benefits", data.get("benefits"), max_len=2000),
        "scenarios": clean_text(errors, "scenarios", data.get("scenarios"), max_len=2000),
        "ip_items": _clean_ip_items(errors, data.get("ip_items")),
        "owners": _clean_owners(errors, data.get("owners")),
    }
    field = find_field_by_code(session, data.get("field")) if isinstance(data.get("field"), str) else None
    if field is None:
        errors.add("field", _("请选择所属领域。"))
    clean["field"] = field
    if clean["trl"] and clean["stage"] and clean["trl"] not in STAGE_TRL_RANGES[clean["stage"]]:
        errors.add("stage", _("成熟度阶段与技术就绪度（TRL %(trl)s）不一致。", trl=clean["trl"]))
    if clean["price_type"] in (PriceType.REFERENCE, PriceType.FLOOR) and clean["price_min_fen"] is None:
        errors.add("price_min_fen", _("参考价或底价需要填写金额。"))
    if clean["price_type"] == PriceType.NEGOTIABLE:
        clean["price_min_fen"] = clean["price_max_fen"] = None
    check_money_range(errors, "price_min_fen", clean["price_min_fen"], "price_max_fen", clean["price_max_fen"])
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))
    return clean


def _clean_ip_items(errors: FieldErrors, items) -> list[dict]:
    if items in (None, ""):
        return []
    if not isinstance(items, list) or len(items) > 20:
        errors.add("ip_items", _("知识产权最多 20 项。"))
        return []
    cleaned = []
    for item in items:
        if not isinstance(item, dict) or set(item) - {"number", "kind"}:
            errors.add("ip_items", _("知识产权格式应为 编号 + 类型。"))
            return []
        number = clean_text(errors, "ip_items", item.get("number"), max_len=40, required=True, multiline=False)
        kind = clean_choice(errors, "ip_items", item.get("kind"), IpKind)
        if number and kind:
            cleaned.append({"number": number, "kind": kind.value})
    return cleaned


def _clean_owners(errors: FieldErrors, owners) -> list[dict]:
    if owners in (None, ""):
        return []
    if not isinstance(owners, list) or len(owners) > 10:
        errors.add("owners", _("权利人最多 10 个。"))
        return []
    cleaned = []
    for owner in owners:
        if not isinstance(owner, dict) or set(owner) - {"name", "share_bp"}:
            errors.add("owners", _("权利人格式应为 名称 + 份额。"))
            return []
        name = clean_text(errors, "owners", owner.get("name"), max_len=120, required=True, multiline=False)
        share = clean_int(errors, "owners", owner.get("share_bp"), low=1, high=10000, required=True)
        if name and share:
            cleaned.append({"name": name, "share_bp": share})
    if cleaned and sum(owner["share_bp"] for owner in cleaned) != 10000:
        errors.add("owners", _("权利人份额合计应为 100%。"))
    return cleaned


def _apply(achievement: Achievement, clean: dict) -> None:
    modes = clean.pop("modes")
    field = clean.pop("field")
    for key, value in clean.items():
        setattr(achievement, key, value)
    achievement.field = field
    achievement.set_modes(modes)
    achievement.updated_at = utcnow()


def build_achievement(session: Session, actor: User, clean: dict, *, submit: bool, source_key: str | None = None,
                      organisation: Organisation | None = None) -> Achievement:
    """Add a new achievement from clean values to the session (no commit): shared by the form, the API and imports.

    The organisation defaults to the actor's; an admin importing for an organisation passes it.
    """
    organisation = organisation or actor.organisation
    achievement = Achievement(organisation_id=organisation.id, submitter_id=actor.id, region=organisation.region,
                              valley_id=valley_id_for(session, organisation), source_key=source_key)
    _apply(achievement, dict(clean))
    if not achievement.owners:
        achievement.owners = [{"name": organisation.name, "share_bp": 10000}]
    session.add(achievement)
    session.flush()
    listings.record_event(session, achievement, actor, "create")
    if submit:
        previous = achievement.submit()
        listings.record_event(session, achievement, actor, "submit", previous)
    listings.index_listing(session, achievement)
    return achievement


def require_achievement_author(actor: User) -> None:
    """Only approved researchers and enterprise users may list achievements."""
    if not (can_create(actor, Role.RESEARCHER) or can_create(actor, Role.ENTERPRISE)):
        raise PermissionDeniedError(_("只有已审核机构的科研人员或企业用户可以发布科技成果。"))


def create_achievement(session: Session, actor: User, data: dict, *, submit: bool = False) -> Achievement:
    """A researcher (or company member) lists an achievement as a draft, or straight into review."""
    require_achievement_author(actor)
    achievement = build_achievement(session, actor, clean_achievement(session, data), submit=submit)
    session.flush()
    return achievement


def update_achievement(session: Session, actor: User, achievement_id: int, data: dict, *, submit: bool = False) -> Achievement:
    """Edit an achievement; a published one goes back to review, as does any edit sent with submit."""
    achievement = listings.get_managed_listing(session, actor, ListingKind.ACHIEVEMENT, achievement_id)
    if not achievement.is_editable:
        raise InvalidStateError(_("当前状态下不能修改。"))
    clean = clean_achievement(session, data)
    was_published = achievement.status == ListingStatus.PUBLISHED
    _apply(achievement, clean)
    listings.record_event(session, achievement, actor, "edit")
    if submit or was_published:
        previous = achievement.submit()
        listings.record_event(session, achievement, actor, "submit", previous)
        if was_published:
            listings.record_listing_change(session, achievement)
    listings.index_listing(session, achievement)
    session.flush()
    return achievement
