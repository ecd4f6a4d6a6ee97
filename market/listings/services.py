"""The listing workflow shared by achievements and demands: review, withdrawal, renewal, expiry, follows, files."""
import logging
from typing import Annotated, Protocol

from blinker import Namespace
from flask_babel import gettext as _
from pydantic import Field
from sqlalchemy import delete, event, inspect, select
from sqlalchemy.orm import Session

from market.declared import DeclaredInput, cleaned_by, validate_input
from market.errors import NotFoundError, PermissionDeniedError, ValidationError
from market.inputs import FieldErrors, clean_text
from market.listings import search
from market.listings.access import can_open_confidential
from market.listings.models import Attachment, Follow, ListingEvent, SearchTerm, listing_model
from market.listings.vocabulary import ListingKind, ListingStatus, ReturnReason, label
from market.notifications.services import notify
from market.security import can_manage_listing, can_view_listing
from market.timeutil import utcnow
from market.uploads import delete_after_commit, store_pdf

audit = logging.getLogger("market.audit")
listing_changed = Namespace().signal("listing-changed")
"""Sent with (session, listing) when a listing's public state changed; the matcher keeps its index by it."""
listing_published = Namespace().signal("listing-published")
"""Sent with (session, listing) when a listing goes on show for the first time; saved searches are run against it."""
RETURN_COMMENT_MAX_LENGTH = 2000
"""The longest comment a reviewer may send back with a returned listing."""


class Actor(Protocol):
    """The user acting on a listing (an accounts.models.User; listings only need these parts)."""

    id: int
    is_admin: bool
    is_authenticated: bool
    organisation: object


def record_listing_change(session: Session, listing) -> None:
    """Tell the listeners (the matcher) that a listing was published, edited while published, or taken down."""
    listing_changed.send(session, listing=listing)


def get_listing(session: Session, actor: Actor | None, kind: ListingKind, listing_id: int):
    """A listing the actor may see, or NotFoundError (private listings of others look absent)."""
    listing = session.get(listing_model(kind), listing_id)
    if listing is None or not can_view_listing(actor, listing):
        raise NotFoundError(_("该信息不存在或尚未发布。"))
    return listing


def get_managed_listing(session: Session, actor: Actor | None, kind: ListingKind, listing_id: int):
    """A listing the actor manages (its organisation or an admin), or NotFoundError."""
    listing = session.get(listing_model(kind), listing_id)
    if listing is None or not can_manage_listing(actor, listing):
        raise NotFoundError(_("该信息不存在或您无权管理。"))
    return listing


def record_event(session: Session, listing, actor: Actor | None, action: str, previous: str | None = None,
                 reason: str | None = None, comment: str = "") -> None:
    """Append a step to the listing's history."""
    session.add(ListingEvent(listing_kind=listing.kind, listing_id=listing.id, actor_id=actor.id if actor else None,
                             action=action, from_status=previous, to_status=listing.status,
                             reason=reason, comment=comment))


def index_listing(session: Session, listing) -> None:
    """Replace the listing's rows in the search table: its text in Chinese and English, its field path and its
    organisation's name."""
    session.execute(delete(SearchTerm).where(SearchTerm.listing_kind == listing.kind,
                                             SearchTerm.listing_id == listing.id))
    body = " ".join(filter(None, [getattr(listing, "summary", ""), getattr(listing, "description_public", ""),
                                  getattr(listing, "description", ""), getattr(listing, "benefits", ""),
                                  getattr(listing, "scenarios", "")]))
    body_en = listing.summary_en or ""
    field = listing.field
    while field is not None:
        body += " " + field.name
        body_en += " " + (field.name_en or "")
        field = field.parent
    organisation = listing.organisation
    terms = search.listing_terms(search.ListingText(
        title=listing.title, keywords=listing.keywords or [], body=body, title_en=listing.title_en or "",
        body_en=body_en, organisation=organisation.name if organisation else ""))
    session.add_all(SearchTerm(listing_kind=listing.kind, listing_id=listing.id, term=term, weight=weight)
                    for term, weight in terms.items())
    listing.search_length = sum(terms.values())


def index_organisation_listings(session: Session, organisation_id: int) -> None:
    """Index again every listing of an organisation (its name is part of each listing's search terms)."""
    for kind in ListingKind:
        model = listing_model(kind)
        for listing in session.scalars(select(model).where(model.organisation_id == organisation_id)):
            index_listing(session, listing)


@event.listens_for(Session, "before_flush")
def index_renamed_organisations(session: Session, _flush_context, _instances) -> None:
    """A renamed organisation's listings are indexed again under the new name, in the flush that renames it."""
    if not session.dirty:
        return
    organisation_class = inspect(listing_model(ListingKind.ACHIEVEMENT)).relationships["organisation"].mapper.class_
    renamed = [item.id for item in session.dirty if isinstance(item, organisation_class) and item.id is not None
               and inspect(item).attrs.name.history.has_changes()]
    with session.no_autoflush:
        for organisation_id in renamed:
            index_organisation_listings(session, organisation_id)


def submit_listing(session: Session, actor: Actor, kind: ListingKind, listing_id: int) -> None:
    """Send a listing to review."""
    listing = get_managed_listing(session, actor, kind, listing_id)
    previous = listing.submit()
    record_event(session, listing, actor, "submit", previous)
    session.flush()


def approve_listing(session: Session, actor: Actor, kind: ListingKind, listing_id: int) -> None:
    """Admin publishes a listing under review and tells its submitter."""
    _require_admin(actor)
    listing = session.get(listing_model(kind), listing_id)
    if listing is None:
        raise NotFoundError(_("该信息不存在。"))
    first_publication = listing.published_at is None
    previous = listing.approve()
    record_event(session, listing, actor, "approve", previous)
    record_listing_change(session, listing)
    if listing.submitter_id:
        notify(session, listing.submitter_id, "listing_published", _("已发布：%(t)s", t=listing.title),
               link=_listing_path(listing))
    session.flush()
    if first_publication:
        listing_published.send(session, listing=listing)
    audit.info("listing approved kind=%s id=%s by admin_id=%s", kind, listing_id, actor.id)


def clean_return_reason(errors: FieldErrors, name: str, value) -> ReturnReason | None:
    """One of the structured reasons for returning a listing."""
    try:
        return ReturnReason(value)
    except (ValueError, TypeError):
        errors.add(name, _("请选择退回原因。"))
        return None


def clean_return_comment(errors: FieldErrors, name: str, value) -> str:
    """The comment that tells the submitter what to change (required)."""
    comment = clean_text(errors, name, value, max_len=RETURN_COMMENT_MAX_LENGTH)
    if not comment:
        errors.add(name, _("请填写退回说明，告诉提交人如何修改。"))
    return comment


class ListingReturnInput(DeclaredInput):
    """A reviewer's return of a listing: a structured reason and a comment for the submitter."""

    reason: Annotated[ReturnReason, Field(description="退回原因。"), cleaned_by(clean_return_reason)]
    comment: Annotated[str, Field(max_length=RETURN_COMMENT_MAX_LENGTH, description="修改意见，告诉提交人如何修改。"),
                       cleaned_by(clean_return_comment)]


def return_listing(session: Session, actor: Actor, kind: ListingKind, listing_id: int, reason: str, comment: str) -> None:
    """Admin returns a listing with a structured reason and a comment shown to the owner."""
    _require_admin(actor)
    values, errors = validate_input(ListingReturnInput, {"reason": reason, "comment": comment})
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))
    reason, comment = values["reason"], values["comment"]
    listing = session.get(listing_model(kind), listing_id)
    if listing is None:
        raise NotFoundError(_("该信息不存在。"))
    previous = listing.send_back(reason, comment)
    record_event(session, listing, actor, "return", previous, reason=reason, comment=comment)
    if listing.submitter_id:
        notify(session, listing.submitter_id, "listing_returned",
               _("被退回：%(t)s（%(r)s）", t=listing.title, r=label(reason)), body=comment,
               link=_listing_path(listing))
    session.flush()


def withdraw_listing(session: Session, actor: Actor, kind: ListingKind, listing_id: int) -> None:
    """The owner takes a listing down (已下架)."""
    listing = get_managed_listing(session, actor, kind, listing_id)
    previous = listing.withdraw()
    record_event(session, listing, actor, "withdraw", previous)
    record_listing_change(session, listing)
    session.flush()


def renew_listing(session: Session, actor: Actor, kind: ListingKind, listing_id: int) -> None:
    """The owner extends a published or expired listing for another twelve months."""
    listing = get_managed_listing(session, actor, kind, listing_id)
    previous = listing.renew()
    record_event(session, listing, actor, "renew", previous)
    record_listing_change(session, listing)
    session.flush()


def expire_listings(session: Session) -> int:
    """Mark every published listing past its twelve months as expired; returns how many."""
    count = 0
    for kind in ListingKind:
        model = listing_model(kind)
        for listing in session.scalars(select(model).where(model.status == ListingStatus.PUBLISHED,
                                                           model.expires_at < utcnow())):
            previous = listing.expire()
            record_event(session, listing, None, "expire", previous)
            record_listing_change(session, listing)
            if listing.submitter_id:
                notify(session, listing.submitter_id, "listing_expired", _("已过期：%(t)s", t=listing.title),
                       body=_("发布已满 12 个月，续期后可重新展示。"), link=_listing_path(listing))
            count += 1
    session.flush()
    return count


def list_history(session: Session, listing) -> list[ListingEvent]:
    """The listing's history, oldest first."""
    return list(session.scalars(select(ListingEvent).where(ListingEvent.listing_kind == listing.kind,
                                                           ListingEvent.listing_id == listing.id)
                                .order_by(ListingEvent.id)))


def list_review_queue(session: Session, kind: ListingKind):
    """Listings waiting for review, oldest submission first."""
    model = listing_model(kind)
    return list(session.scalars(select(model).where(model.status == ListingStatus.PENDING)
                                .order_by(model.submitted_at, model.id)))


def follow_listing(session: Session, actor: Actor, kind: ListingKind, listing_id: int) -> None:
    """Follow (收藏) a visible listing; following twice changes nothing."""
    listing = get_listing(session, actor, kind, listing_id)
    exists = session.scalar(select(Follow.id).where(Follow.user_id == actor.id, Follow.listing_kind == kind,
                                                    Follow.listing_id == listing.id))
    if exists is None:
        session.add(Follow(user_id=actor.id, listing_kind=kind, listing_id=listing.id))
    session.flush()


def unfollow_listing(session: Session, actor: Actor, kind: ListingKind, listing_id: int) -> None:
    """Stop following a listing."""
    session.execute(delete(Follow).where(Follow.user_id == actor.id, Follow.listing_kind == kind,
                                         Follow.listing_id == listing_id))
    session.flush()


def is_following(session: Session, actor: Actor | None, listing) -> bool:
    """Whether the actor follows the listing."""
    if actor is None or not actor.is_authenticated:
        return False
    return session.scalar(select(Follow.id).where(Follow.user_id == actor.id, Follow.listing_kind == listing.kind,
                                                  Follow.listing_id == listing.id)) is not None


def list_followed(session: Session, actor: Actor) -> list:
    """The listings the actor follows that are still visible, newest follow first."""
    follows = list(session.scalars(select(Follow).where(Follow.user_id == actor.id).order_by(Follow.id.desc())))
    found = {}
    for kind in {follow.listing_kind for follow in follows}:
        model = listing_model(kind)
        ids = [follow.listing_id for follow in follows if follow.listing_kind == kind]
        found |= {(kind, row.id): row for row in session.scalars(select(model).where(model.id.in_(ids)))}
    listings = (found.get((follow.listing_kind, follow.listing_id)) for follow in follows)
    return [listing for listing in listings if listing is not None and can_view_listing(actor, listing)]


def add_attachment(session: Session, actor: Actor, kind: ListingKind, listing_id: int, *, filename: str,
                   stream, upload_folder: str, max_bytes: int, is_confidential: bool = False) -> Attachment:
    """Store a PDF under a generated name; the original name is kept for display only."""
    listing = get_managed_listing(session, actor, kind, listing_id)
    stored = store_pdf(session, filename=filename, stream=stream, upload_folder=upload_folder, max_bytes=max_bytes)
    attachment = Attachment(listing_kind=kind, listing_id=listing.id, stored_name=stored.stored_name,
                            original_name=stored.original_name, size_bytes=stored.size_bytes,
                            is_confidential=is_confidential, uploaded_by_id=actor.id)
    session.add(attachment)
    session.flush()
    return attachment


def list_attachments(session: Session, actor: Actor | None, listing, *, confidential: bool | None = None) -> list[Attachment]:
    """Attachments of a listing the actor may download (`confidential`: whether the actor may open the confidential
    part, when the caller already knows)."""
    query = select(Attachment).where(Attachment.listing_kind == listing.kind, Attachment.listing_id == listing.id)
    if not (can_open_confidential(session, actor, listing) if confidential is None else confidential):
        query = query.where(Attachment.is_confidential.is_(False))
    return list(session.scalars(query.order_by(Attachment.id)))


def get_attachment(session: Session, actor: Actor | None, attachment_id: int) -> Attachment:
    """An attachment the actor may download, or NotFoundError."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFoundError(_("文件不存在。"))
    listing = get_listing(session, actor, attachment.listing_kind, attachment.listing_id)
    if attachment.is_confidential and not can_open_confidential(session, actor, listing):
        raise NotFoundError(_("文件不存在。"))
    return attachment


def remove_attachment(session: Session, actor: Actor, attachment_id: int, upload_folder: str) -> None:
    """Delete an attachment of a listing the actor manages."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFoundError(_("文件不存在。"))
    get_managed_listing(session, actor, attachment.listing_kind, attachment.listing_id)
    session.delete(attachment)
    session.flush()
    delete_after_commit(session, upload_folder, attachment.stored_name)


def _require_admin(actor: Actor) -> None:
    if actor is None or not actor.is_admin:
        raise PermissionDeniedError(_("只有平台管理员可以审核。"))


def _listing_path(listing) -> str:
    return f"/{'achievements' if listing.kind == ListingKind.ACHIEVEMENT else 'demands'}/{listing.id}"
