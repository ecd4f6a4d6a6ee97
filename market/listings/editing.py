"""Creating and editing a listing of either kind: one write path, with each kind's declared content and rules."""
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from flask_babel import gettext as _
from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError
from sqlalchemy.orm import Session

from market.declared import REFUSED, DeclaredInput, terms, text, validate_input
from market.errors import InvalidStateError, ValidationError
from market.listings.models import SUMMARY_EN_MAX_LENGTH, TITLE_MAX_LENGTH, listing_model
from market.listings.services import Actor, get_managed_listing, index_listing, record_event, record_listing_change
from market.listings.vocabulary import ListingKind, ListingStatus
from market.taxonomy.services import find_field_by_code, valley_id_for
from market.timeutil import utcnow

FIELD_CODE_MAX_LENGTH = 120


def _field_code(value):
    if not isinstance(value, str) or not value.strip() or len(value) > FIELD_CODE_MAX_LENGTH:
        raise PydanticCustomError(REFUSED, "{message}", {"message": _("请选择所属领域。")})
    return value.strip()


class ListingContent(DeclaredInput):
    """What every listing's content declares: a one-line title, keywords and a field of the field tree."""

    title: text(TITLE_MAX_LENGTH, required=True, multiline=False, description="名称（单行）。")
    title_en: text(TITLE_MAX_LENGTH, multiline=False, description="英文名称（选填，单行）：英文检索可按它找到。")
    summary_en: text(SUMMARY_EN_MAX_LENGTH, description="英文简介（选填）：英文检索可按它找到。")
    keywords: terms(10, 30, description="关键词。")
    field: Annotated[str, Field(max_length=FIELD_CODE_MAX_LENGTH, description="领域代码（点分路径，如 energy.hydrogen）。"),
                     BeforeValidator(_field_code)]


@dataclass
class ListingType:
    """A kind's parts of the write path: its declared content, who may create one, and what a new one gets."""

    kind: ListingKind
    content: type[ListingContent]
    require_author: Callable[[Actor], None]
    complete_new: Callable[[object, object], None] = lambda listing, organisation: None
    """Fills what a new listing defaults to from its organisation (e.g. an achievement's owners)."""


def clean_listing(session: Session, listing_type: ListingType, data: dict) -> dict:
    """Validate content (from a form or the API) through the kind's declared input; clean values or ValidationError."""
    values, errors = validate_input(listing_type.content, data)
    field = find_field_by_code(session, values.get("field")) if values.get("field") else None
    if field is None:
        errors.add("field", _("请选择所属领域。"))
    values["field"] = field
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))
    return values


def _apply(listing, clean: dict) -> None:
    clean = dict(clean)
    modes = clean.pop("modes")
    for key, value in clean.items():
        setattr(listing, key, value)
    listing.set_modes(modes)
    listing.updated_at = utcnow()


def build_listing(session: Session, actor: Actor, listing_type: ListingType, clean: dict, *, submit: bool,
                  organisation=None, source_key: str | None = None):
    """Add a new listing from clean values to the session (no commit): shared by the pages, the API and imports.

    The organisation defaults to the actor's; an admin importing for an organisation passes it."""
    organisation = organisation or actor.organisation
    listing = listing_model(listing_type.kind)(
        organisation_id=organisation.id, submitter_id=actor.id, region=organisation.region,
        valley_id=valley_id_for(session, organisation), source_key=source_key)
    _apply(listing, clean)
    listing_type.complete_new(listing, organisation)
    session.add(listing)
    session.flush()
    record_event(session, listing, actor, "create")
    if submit:
        previous = listing.submit()
        record_event(session, listing, actor, "submit", previous)
    index_listing(session, listing)
    session.flush()
    return listing


def create_listing(session: Session, actor: Actor, listing_type: ListingType, data: dict, *, submit: bool = False):
    """An author lists content as a draft, or straight into review."""
    listing_type.require_author(actor)
    return build_listing(session, actor, listing_type, clean_listing(session, listing_type, data), submit=submit)


def update_listing(session: Session, actor: Actor, listing_type: ListingType, listing_id: int, data: dict, *,
                   submit: bool = False):
    """Edit a listing; a published one goes back to review, as does any edit sent with submit."""
    listing = get_managed_listing(session, actor, listing_type.kind, listing_id)
    if not listing.is_editable:
        raise InvalidStateError(_("当前状态下不能修改。"))
    clean = clean_listing(session, listing_type, data)
    was_published = listing.status == ListingStatus.PUBLISHED
    _apply(listing, clean)
    record_event(session, listing, actor, "edit")
    if submit or was_published:
        previous = listing.submit()
        record_event(session, listing, actor, "submit", previous)
        if was_published:
            record_listing_change(session, listing)
    index_listing(session, listing)
    session.flush()
    return listing
