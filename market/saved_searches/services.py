"""Saved searches: keep, list and delete them, and tell their owners once of each newly published listing matching
one (run through the browse page's own search, restricted to that listing)."""
import logging
from dataclasses import replace

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from market.accounts.models import User
from market.declared import validate_input
from market.errors import NotFoundError, RuleViolationError, ValidationError
from market.jobs.queues import enqueue_after_commit
from market.listings import queries
from market.listings.access import listing_path
from market.listings.services import listing_published
from market.listings.vocabulary import ListingKind, Stage, TransferMode, label
from market.notifications.services import notify
from market.saved_searches.inputs import SavedSearchInput
from market.saved_searches.models import MAX_SAVED_SEARCHES_PER_USER, SEARCH_CRITERIA, SavedSearch, SavedSearchNotice
from market.taxonomy.models import Field, Valley
from market.taxonomy.wording import field_name, valley_name
from market.templating import format_amount

TELL_SAVED_SEARCHES_JOB = "saved_searches.tell"

audit = logging.getLogger("market.audit")


def save_search(session: Session, actor: User, data: dict) -> tuple[SavedSearch, bool]:
    """Keep the actor's search (words or filters of one kind) and say whether it is new: the same search saved again
    is the one kept before."""
    values, errors = validate_input(SavedSearchInput, data)
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))
    criteria = {name: values.get(name) if name.endswith("_fen") else (values.get(name) or "") for name in SEARCH_CRITERIA}
    if criteria["field"] and session.scalar(select(Field.id).where(Field.code == criteria["field"])) is None:
        raise ValidationError(_("请修改标出的内容。"), {"field": _("没有这个领域。")})
    if criteria["valley"] and session.get(Valley, criteria["valley"]) is None:
        raise ValidationError(_("请修改标出的内容。"), {"valley": _("没有这个谷区。")})
    if not any(value not in ("", None) for value in criteria.values()):
        raise ValidationError(_("请先输入搜索词或选择筛选条件，再保存搜索。"), {"q": _("请输入搜索词或选择筛选条件。")})
    kind = ListingKind(values["kind"])
    wanted = {name: value for name, value in criteria.items() if value not in ("", None)}
    for saved in list_saved_searches(session, actor):
        if saved.kind == kind and saved.criteria() == wanted:
            return saved, False
    if _count(session, actor) >= MAX_SAVED_SEARCHES_PER_USER:
        raise RuleViolationError(_("最多保存 %(n)s 条搜索，请先删除不再需要的。", n=MAX_SAVED_SEARCHES_PER_USER))
    saved = SavedSearch(user_id=actor.id, kind=kind, **criteria)
    session.add(saved)
    session.flush()
    audit.info("search saved id=%s by user_id=%s", saved.id, actor.id)
    return saved, True


def _count(session: Session, actor: User) -> int:
    return session.scalar(select(func.count()).select_from(SavedSearch).where(SavedSearch.user_id == actor.id)) or 0


def get_saved_search(session: Session, actor: User, saved_search_id: int) -> SavedSearch:
    """One of the actor's saved searches (another person's looks absent)."""
    saved = session.get(SavedSearch, saved_search_id)
    if saved is None or saved.user_id != actor.id:
        raise NotFoundError(_("该保存的搜索不存在。"))
    return saved


def list_saved_searches(session: Session, actor: User) -> list[SavedSearch]:
    """The actor's saved searches, newest first."""
    return list(session.scalars(select(SavedSearch).where(SavedSearch.user_id == actor.id)
                                .order_by(SavedSearch.id.desc())))


def delete_saved_search(session: Session, actor: User, saved_search_id: int) -> None:
    """Delete one of the actor's saved searches (another person's looks absent)."""
    session.delete(get_saved_search(session, actor, saved_search_id))
    session.flush()
    audit.info("saved search id=%s deleted by user_id=%s", saved_search_id, actor.id)


def search_params(saved: SavedSearch, **changes) -> queries.SearchParams:
    """The browse page's parameters of a saved search."""
    return replace(queries.SearchParams(**saved.criteria()), **changes)


def matches_listing(session: Session, saved: SavedSearch, listing) -> bool:
    """Whether the browse page's search with the saved words and filters finds the listing."""
    params = search_params(saved, listing_ids=(listing.id,), per_page=1)
    return queries.search_listings(session, saved.kind, params, with_facets=False).total > 0


def tell_saved_searches(session: Session, listing) -> int:
    """Tell each active user with a saved search matching a newly published listing, once per listing (not its own
    organisation's people); returns how many were told."""
    told = set(session.scalars(select(SavedSearchNotice.user_id).where(
        SavedSearchNotice.listing_kind == listing.kind, SavedSearchNotice.listing_id == listing.id)))
    rows = session.execute(select(SavedSearch, User).join(User, User.id == SavedSearch.user_id)
                           .where(SavedSearch.kind == listing.kind, User.is_active_account.is_(True))
                           .order_by(SavedSearch.user_id, SavedSearch.id))
    for saved, user in rows:
        if user.id in told or user.organisation_id == listing.organisation_id:
            continue
        if matches_listing(session, saved, listing):
            told.add(user.id)
            session.add(SavedSearchNotice(user_id=user.id, listing_kind=listing.kind, listing_id=listing.id))
            notify(session, user.id, "saved_search_match", _l("新发布的信息符合您保存的搜索：%(t)s", t=listing.title),
                   body=_l("符合您保存的搜索：%(s)s。可在“保存的搜索”中管理或删除。",
                                s=LazyString(describe, session, saved)),
                   link=listing_path(listing))
    session.flush()
    return len(told)


def describe(session: Session, saved: SavedSearch) -> str:
    """A saved search in words, in the current language: “words” · field · valley · stage · mode · city · amounts."""
    parts = [_("“%(q)s”", q=saved.q)] if saved.q else []
    if saved.field:
        parts.append(field_name(session.scalar(select(Field).where(Field.code == saved.field))) or saved.field)
    if saved.valley:
        parts.append(valley_name(session.get(Valley, saved.valley)) or saved.valley)
    parts += [label(Stage(saved.stage))] if saved.stage else []
    parts += [label(TransferMode(saved.mode))] if saved.mode else []
    parts += [saved.region] if saved.region else []
    if saved.min_fen is not None and saved.max_fen is not None:
        parts.append(f"{format_amount(saved.min_fen)} – {format_amount(saved.max_fen)}")
    elif saved.min_fen is not None:
        parts.append(_("不低于 %(v)s", v=format_amount(saved.min_fen)))
    elif saved.max_fen is not None:
        parts.append(_("不超过 %(v)s", v=format_amount(saved.max_fen)))
    return " · ".join(parts)


def _on_publication(session: Session, listing) -> None:
    enqueue_after_commit(session, TELL_SAVED_SEARCHES_JOB, kind=str(ListingKind(listing.kind)), listing_id=listing.id)


listing_published.connect(_on_publication)
