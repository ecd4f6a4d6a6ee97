"""The matcher in the app: who sees matches, ranked matches with explanations, feedback, the broker board,
pairs and notices when a listing is published, field suggestion, and the change log the indexes follow."""
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated

import pydantic
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from market.accounts.models import Role, User
from market.achievements.models import Achievement
from market.declared import DeclaredInput, cleaned_by, text, validate_input
from market.demands.models import Demand
from market.errors import NotFoundError, PermissionDeniedError, ValidationError
from market.inputs import FieldErrors
from market.jobs.queues import enqueue_after_commit
from market.listings.models import listing_model
from market.listings.queries import visible_to_public
from market.listings.services import get_listing, listing_changed
from market.listings.vocabulary import ListingKind, ListingStatus
from market.matching.engine import Listing, Match
from market.matching.index_store import engine_listing, record_change, store_for
from market.matching.models import (
    MAX_SCORE_BP,
    REASONS_BY_VERDICT,
    FeedbackReason,
    IndexAction,
    MatchFeedback,
    MatchPair,
    Verdict,
)
from market.matching.weights import DEFAULT_WEIGHTS, FACTORS
from market.notifications.services import notify
from market.security import can_manage_listing, can_view_listing
from market.taxonomy.models import Field
from market.taxonomy.services import field_path
from market.text import is_telling_term
from market.timeutil import utcnow

PAIR_LISTING_JOB = "matching.pair_listing"
MAX_TOP = 50
FEEDBACK_COMMENT_MAX_LENGTH = 500
"""The most matches one request may ask for (pages and API)."""
PAIRS_PER_LISTING = 20
"""How many of a newly published listing's best matches are kept as pairs for the broker board."""
STALE_SLACK = 10
"""Extra candidates asked of the index, in case some have left the market since it last caught up."""
SNIPPET_CHARS = 120
BOARD_PAGE_SIZE = 20
BOARD_DAYS = (7, 30, 90, 365)
BOARD_DEFAULT_DAYS = 90
"""The board's default window: on the demo data, 90 days at 30 points shows about fifty related pairs, 30 days ten."""
NEW_LISTING_WINDOW = timedelta(days=1)
"""A listing published within this time counts as new: matching it may notify the owners of older listings."""

DEFAULTS = {
    "MATCH_NOTIFY_THRESHOLD": 60,   # points: owners are told about a new listing that matches theirs this well
    "MATCH_BOARD_THRESHOLD": 30,    # points: the broker board's default minimum score (see BOARD_DEFAULT_DAYS)
    "MATCH_PAIR_FLOOR": round(DEFAULT_WEIGHTS.min_listing_score),  # points: weaker pairs are not kept at all
}

OTHER_KIND = {ListingKind.ACHIEVEMENT: ListingKind.DEMAND, ListingKind.DEMAND: ListingKind.ACHIEVEMENT}
FACTOR_LABELS = {
    "text": _l("文本相似度"),
    "title_keywords": _l("标题与关键词"),
    "field": _l("领域"),
    "maturity": _l("成熟度"),
    "budget": _l("预算与价格"),
    "mode": _l("合作方式"),
    "region": _l("地域"),
}
_KEYWORD_SPLIT = re.compile(r"[,，、;；\s]+")


def setting(name: str) -> int:
    """A matching threshold from the app config (points 0–100), with the documented default."""
    return int(current_app.config.get(name, DEFAULTS[name]))


# ----------------------------------------------------------------------------------------------- access
def can_see_matches(user: User | None, listing) -> bool:
    """Matches of a listing are for its organisation's members and admins, and for brokers while it is public."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if can_manage_listing(user, listing):
        return True
    return user.role == Role.BROKER and user.is_approved_member and listing.is_public


def can_use_board(user: User | None) -> bool:
    """The broker board is for approved brokers and admins."""
    return (user is not None and getattr(user, "is_authenticated", False)
            and (user.is_admin or (user.role == Role.BROKER and user.is_approved_member)))


def get_listing_for_matches(session: Session, actor: User | None, kind: ListingKind, listing_id: int):
    """The listing whose matches the actor asks for: NotFoundError when they may not see it at all,
    PermissionDeniedError when they see the listing but not its matches."""
    listing = get_listing(session, actor, ListingKind(kind), listing_id)
    if not can_see_matches(actor, listing):
        raise PermissionDeniedError(_("只有发布机构成员、技术经纪人和平台管理员可以查看匹配结果。"))
    return listing


# ----------------------------------------------------------------------------------------------- matches
@dataclass(frozen=True)
class Snippet:
    """A window of a text around the shared terms, and the terms as they are written in it (for |highlight)."""

    text: str
    terms: tuple[str, ...]


@dataclass(frozen=True)
class FactorShare:
    """One factor of a score: its points, the most it could give for this pair, and its similarity (None: unknown)."""

    name: str
    label: str
    points: float
    max_points: float
    similarity: float | None


@dataclass
class MatchView:
    """A ranked match as the pages and the API show it."""

    demand: Demand
    achievement: Achievement
    other: object
    score: float
    shared_terms: tuple[str, ...]
    field_path: tuple[str, ...]
    field_inferred: bool
    factors: list[FactorShare]
    query_title: Snippet
    query_snippet: Snippet
    other_title: Snippet
    other_snippet: Snippet
    structured_counted: bool = True
    """False when the subjects are too far apart for maturity, budget, mode and region to score."""
    my_feedback: MatchFeedback | None = None
    dismissed: bool = False
    """Marked not relevant by someone of the viewer's organisation (by the viewer, for admins): shown dimmed, last."""

    @property
    def anchor(self) -> str:
        """An HTML id for this pair."""
        return f"match-{self.demand.id}-{self.achievement.id}"


@dataclass
class ListingMatches:
    """A listing's matches for one viewer."""

    listing: object
    kind: ListingKind
    other_kind: ListingKind
    matches: list[MatchView] = field(default_factory=list)


def list_listing_matches(session: Session, actor: User | None, kind: ListingKind, listing_id: int, *,
                         top: int = 10) -> ListingMatches:
    """The best `top` (at most 50) listings of the other kind for a listing the actor may see the matches of."""
    listing = get_listing_for_matches(session, actor, kind, listing_id)
    return _matches_of(session, actor, listing, top)


def find_listing_matches(session: Session, actor: User | None, listing, *, top: int = 5) -> ListingMatches | None:
    """The matches for a listing page, or None when the actor may not see them (the section stays absent)."""
    if not can_see_matches(actor, listing):
        return None
    return _matches_of(session, actor, listing, top)


def display_terms(terms: Iterable[str]) -> tuple[str, ...]:
    """Shared terms worth showing: no stop words, generic words, numbers or units (also in stored explanations)."""
    return tuple(term for term in terms if is_telling_term(term))


def _rank(listing, top: int) -> tuple[list[Match], object]:
    """The engine's ranking of the other kind for a listing (the index caught up first), with the weights used."""
    store = store_for(current_app)
    query = engine_listing(listing)
    with store.reading() as indexes:
        index = indexes[OTHER_KIND[listing.kind]]
        return index.rank(query, top), index.weights


def _public_by_id(session: Session, kind: ListingKind, ids: list[int]) -> dict[int, object]:
    if not ids:
        return {}
    model = listing_model(kind)
    rows = session.scalars(select(model).where(model.id.in_(ids)).options(
        selectinload(model.mode_rows), joinedload(model.organisation), joinedload(model.field)))
    return {row.id: row for row in rows if row.is_public}


def _matches_of(session: Session, actor: User | None, listing, top: int) -> ListingMatches:
    top = max(1, min(int(top), MAX_TOP))
    kind = ListingKind(listing.kind)
    other_kind = OTHER_KIND[kind]
    ranked, weights = _rank(listing, top + STALE_SLACK)
    ranked = [match for match in ranked if match.score >= weights.min_listing_score]
    others = _public_by_id(session, other_kind, [int(m.candidate_id) for m in ranked])
    result = ListingMatches(listing=listing, kind=kind, other_kind=other_kind)
    for match in ranked:
        other = others.get(int(match.candidate_id))
        if other is None:
            continue
        result.matches.append(_view(listing, other, match, weights))
        if len(result.matches) == top:
            break
    _attach_feedback(session, actor, result.matches)
    result.matches.sort(key=lambda view: view.dismissed)
    return result


def _display_text(listing) -> str:
    """The public text the engine indexes (for an achievement: summary, details, benefits, scenarios)."""
    return engine_listing(listing).text


def _view(listing, other, match: Match, weights) -> MatchView:
    explanation = match.explanation
    terms = display_terms(explanation.shared_terms)
    demand, achievement = (listing, other) if listing.kind == ListingKind.DEMAND else (other, listing)
    return MatchView(
        demand=demand, achievement=achievement, other=other, score=match.score, shared_terms=terms,
        field_path=tuple(explanation.field_path), field_inferred=explanation.field_inferred,
        factors=factor_shares(explanation.contributions, explanation.similarities, weights),
        query_title=snippet(listing.title, terms, width=len(listing.title) or 1),
        query_snippet=snippet(_display_text(listing), terms),
        other_title=snippet(other.title, terms, width=len(other.title) or 1),
        other_snippet=snippet(_display_text(other), terms), structured_counted=explanation.structured_counted)


def factor_shares(contributions, similarities, weights) -> list[FactorShare]:
    """Each factor's points beside the most it could give (factors one side leaves empty give none)."""
    known = [name for name in FACTORS if similarities.get(name) is not None]
    total = sum(weights.factor_weight(name) for name in known) or 1.0
    return [FactorShare(name=name, label=str(FACTOR_LABELS.get(name, name)),
                        points=round(float(contributions.get(name, 0.0)), 2),
                        max_points=round(100 * weights.factor_weight(name) / total, 2) if name in known else 0.0,
                        similarity=similarities.get(name))
            for name in FACTORS]


def snippet(text: str, terms: Iterable[str], *, width: int = SNIPPET_CHARS) -> Snippet:
    """The `width` characters of the text holding the most distinct terms (whitespace folded), with those terms."""
    text = " ".join((text or "").split())
    terms = [term for term in dict.fromkeys(terms) if term]
    lowered = text.lower() if len(text.lower()) == len(text) else text
    occurrences: list[tuple[int, int, int]] = []
    for number, term in enumerate(terms):
        start = 0
        while len(occurrences) < 400:
            position = lowered.find(term, start)
            if position < 0:
                break
            occurrences.append((position, number, len(term)))
            start = position + len(term)
    occurrences.sort()
    best_start, best_count = 0, 0
    for position, _number, _length in occurrences:
        start = max(0, min(position - 8, len(text) - width))
        count = len({n for p, n, length in occurrences if p >= start and p + length <= start + width})
        if count > best_count:
            best_start, best_count = start, count
    window = text[best_start:best_start + width]
    window_lowered = lowered[best_start:best_start + width]
    written = []
    for term in terms:
        position = window_lowered.find(term)
        while position >= 0:
            written.append(window[position:position + len(term)])
            position = window_lowered.find(term, position + len(term))
    prefix = "…" if best_start > 0 else ""
    suffix = "…" if best_start + width < len(text) else ""
    return Snippet(text=prefix + window + suffix, terms=tuple(dict.fromkeys(written)))


def _attach_feedback(session: Session, actor: User | None, views: list[MatchView]) -> None:
    """The viewer's own feedback on each pair, and whether their organisation marked it not relevant."""
    if not views or actor is None or not getattr(actor, "is_authenticated", False):
        return
    pairs = {(view.demand.id, view.achievement.id): view for view in views}
    same_side = [MatchFeedback.user_id == actor.id]
    if actor.organisation_id is not None and not actor.is_admin:
        same_side.append(MatchFeedback.user.has(User.organisation_id == actor.organisation_id))
    rows = session.scalars(select(MatchFeedback).where(
        or_(*same_side),
        or_(*[and_(MatchFeedback.demand_id == d, MatchFeedback.achievement_id == a) for d, a in pairs])))
    for row in rows:
        view = pairs.get((row.demand_id, row.achievement_id))
        if view is None:
            continue
        if row.user_id == actor.id:
            view.my_feedback = row
        if row.verdict == Verdict.NOT_RELEVANT:
            view.dismissed = True


# ----------------------------------------------------------------------------------------------- feedback
def clean_verdict(errors: FieldErrors, name: str, value) -> Verdict | None:
    """A judgement of a pair: relevant or not relevant."""
    try:
        return Verdict(value)
    except (ValueError, TypeError):
        errors.add(name, _("请选择“相关”或“不相关”。"))
        return None


def clean_feedback_reason(errors: FieldErrors, name: str, value) -> FeedbackReason | None:
    """One of the reasons a pair is (not) relevant."""
    try:
        return FeedbackReason(value)
    except (ValueError, TypeError):
        errors.add(name, _("请选择原因。"))
        return None


class MatchFeedbackInput(DeclaredInput):
    """A user's judgement of a demand × achievement pair: the verdict, a reason that goes with it, a comment."""

    verdict: Annotated[Verdict, pydantic.Field(description="判断：相关或不相关。"), cleaned_by(clean_verdict)]
    reason: Annotated[FeedbackReason, pydantic.Field(description="原因，须与所选判断相符。"),
                      cleaned_by(clean_feedback_reason)]
    comment: text(FEEDBACK_COMMENT_MAX_LENGTH, description="补充说明。")

    @classmethod
    def check_together(cls, values: dict, errors: FieldErrors) -> None:
        """The reason must be one of the verdict's."""
        verdict, reason = values.get("verdict"), values.get("reason")
        if verdict is not None and reason is not None and reason not in REASONS_BY_VERDICT[verdict]:
            errors.add("reason", _("该原因与所选判断不符。"))


def save_feedback(session: Session, actor: User, *, demand_id: int, achievement_id: int, verdict: str,
                  reason: str, comment: str = "") -> MatchFeedback:
    """Record (or change) the actor's verdict on a pair; they must be allowed to see the matches of one side."""
    demand = session.get(Demand, demand_id) if isinstance(demand_id, int) else None
    achievement = session.get(Achievement, achievement_id) if isinstance(achievement_id, int) else None
    if (demand is None or achievement is None or not can_view_listing(actor, demand)
            or not can_view_listing(actor, achievement)):
        raise NotFoundError(_("该匹配不存在或您无权查看。"))
    if not (can_see_matches(actor, demand) or can_see_matches(actor, achievement)):
        raise PermissionDeniedError(_("只有能查看匹配结果的用户可以反馈。"))
    values, errors = validate_input(MatchFeedbackInput, {"verdict": verdict, "reason": reason, "comment": comment})
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))
    feedback = session.scalar(select(MatchFeedback).where(
        MatchFeedback.user_id == actor.id, MatchFeedback.demand_id == demand.id,
        MatchFeedback.achievement_id == achievement.id))
    if feedback is None:
        feedback = MatchFeedback(user_id=actor.id, demand_id=demand.id, achievement_id=achievement.id)
        session.add(feedback)
    feedback.verdict, feedback.reason, feedback.comment = values["verdict"], values["reason"], values["comment"]
    feedback.updated_at = utcnow()
    session.flush()
    return feedback


def list_pair_feedback(session: Session, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], list[MatchFeedback]]:
    """Every user's feedback on the given (demand id, achievement id) pairs, newest first."""
    pairs = list(dict.fromkeys(pairs))
    found: dict[tuple[int, int], list[MatchFeedback]] = {pair: [] for pair in pairs}
    if not pairs:
        return found
    rows = session.scalars(select(MatchFeedback).where(or_(*[
        and_(MatchFeedback.demand_id == d, MatchFeedback.achievement_id == a) for d, a in pairs]))
        .options(joinedload(MatchFeedback.user).joinedload(User.organisation))
        .order_by(MatchFeedback.updated_at.desc(), MatchFeedback.id.desc()))
    for row in rows:
        found[(row.demand_id, row.achievement_id)].append(row)
    return found


# ----------------------------------------------------------------------------------------------- change log, pairs, notices
def record_listing_change(session: Session, listing) -> None:
    """Tell every process's match index about a listing's change, in the caller's transaction (caller commits).

    It receives the listings' `listing_changed` signal, sent after the status change on approve, on edit of a
    published listing, withdraw, expire, dealt and renew. A published listing is also matched by the pairing job once
    the transaction commits (`pair_listing`). Any other status takes it out of the indexes and retires its pairs.
    """
    if listing.status == ListingStatus.PUBLISHED:
        record_change(session, listing.kind, listing.id, IndexAction.UPSERT)
        enqueue_after_commit(session, PAIR_LISTING_JOB, kind=str(ListingKind(listing.kind)), listing_id=listing.id)
    else:
        _retire_pairs(session, listing)
        record_change(session, listing.kind, listing.id, IndexAction.REMOVE)


listing_changed.connect(record_listing_change)


def _pair_columns(kind: ListingKind):
    if kind == ListingKind.DEMAND:
        return MatchPair.demand_id, MatchPair.achievement_id
    return MatchPair.achievement_id, MatchPair.demand_id


def _retire_pairs(session: Session, listing) -> None:
    own, _other = _pair_columns(ListingKind(listing.kind))
    for pair in session.scalars(select(MatchPair).where(own == listing.id, MatchPair.is_current.is_(True))):
        pair.is_current = False


def store_pairs(session: Session, listing, *, notify_owners: bool) -> int:
    """Rank a published listing against the older listings of the other kind and keep the pairs above
    MATCH_PAIR_FLOOR (replacing the ones it had as the newer side); returns how many were kept."""
    kind = ListingKind(listing.kind)
    published_at = listing.published_at or utcnow()
    own, _ = _pair_columns(kind)
    existing = {}
    for pair in session.scalars(select(MatchPair).where(own == listing.id)):
        existing[(pair.demand_id, pair.achievement_id)] = pair
        if pair.newer_published_at <= published_at:
            pair.is_current = False
    ranked, _weights = _rank(listing, PAIRS_PER_LISTING + STALE_SLACK)
    floor_bp, notify_bp = setting("MATCH_PAIR_FLOOR") * 100, setting("MATCH_NOTIFY_THRESHOLD") * 100
    others = _public_by_id(session, OTHER_KIND[kind], [int(m.candidate_id) for m in ranked])
    is_new = notify_owners and published_at >= utcnow() - NEW_LISTING_WINDOW
    now, kept = utcnow(), 0
    for match in ranked:
        score_bp = min(MAX_SCORE_BP, round(match.score * 100))
        if score_bp < floor_bp or kept == PAIRS_PER_LISTING:
            break
        other = others.get(int(match.candidate_id))
        if other is None or (other.published_at or published_at) > published_at:
            continue
        demand, achievement = (listing, other) if kind == ListingKind.DEMAND else (other, listing)
        pair = existing.get((demand.id, achievement.id))
        if pair is None:
            pair = MatchPair(demand_id=demand.id, achievement_id=achievement.id)
            session.add(pair)
        pair.score_bp, pair.newer_published_at, pair.found_at, pair.is_current = score_bp, published_at, now, True
        pair.explanation = {"shared_terms": list(display_terms(match.explanation.shared_terms)),
                            "field_path": list(match.explanation.field_path)}
        kept += 1
        if (is_new and score_bp >= notify_bp and pair.notified_at is None and other.submitter_id
                and other.organisation_id != listing.organisation_id):
            _notify_owner(session, listing, other, pair, match.score)
            pair.notified_at = now
    return kept


def _listing_path(kind: ListingKind, listing_id: int, *, matches: bool = False) -> str:
    base = f"/{'achievements' if kind == ListingKind.ACHIEVEMENT else 'demands'}/{listing_id}"
    return base + ("/matches" if matches else "")


def _notify_owner(session: Session, new_listing, owned, pair: MatchPair, score: float) -> None:
    """Tell the submitter of an older listing that a new listing of the other kind matches it."""
    if new_listing.kind == ListingKind.ACHIEVEMENT:
        title = _("新的成果与您的需求匹配：%(t)s", t=new_listing.title)
    else:
        title = _("新的需求与您的成果匹配：%(t)s", t=new_listing.title)
    link = _listing_path(ListingKind(owned.kind), owned.id, matches=True) + f"#match-{pair.demand_id}-{pair.achievement_id}"
    notify(session, owned.submitter_id, "match_found", title,
           body=_("与“%(mine)s”的匹配度为 %(score)s 分。", mine=owned.title, score=f"{score:.0f}"), link=link)


def pair_listing(session: Session, kind: str, listing_id: int) -> int:
    """The pairing job: match a listing that is (still) published; its strong pairs are kept for the broker board and,
    when it was published within the last day, the owners of older listings it matches at or above
    MATCH_NOTIFY_THRESHOLD are notified (once per pair). Returns how many pairs were kept."""
    listing = session.get(listing_model(ListingKind(kind)), listing_id)
    if listing is None or listing.status != ListingStatus.PUBLISHED:
        return 0
    kept = store_pairs(session, listing, notify_owners=True)
    session.flush()
    return kept


def refresh_recent_pairs(session: Session, *, days: int) -> int:
    """Keep pairs for every listing published in the last `days` days, without notices (after a rebuild or a
    data load that bypassed the listing services); returns how many listings were matched."""
    since = utcnow() - timedelta(days=days)
    count = 0
    for kind in (ListingKind.DEMAND, ListingKind.ACHIEVEMENT):
        model = listing_model(kind)
        for listing in session.scalars(select(model).where(model.status == ListingStatus.PUBLISHED,
                                                           model.published_at >= since).order_by(model.id)):
            store_pairs(session, listing, notify_owners=False)
            count += 1
    session.flush()
    return count


def rebuild_indexes() -> dict[ListingKind, int]:
    """Rebuild this process's match indexes from the database and save them."""
    return store_for(current_app).rebuild()


# ----------------------------------------------------------------------------------------------- broker board
@dataclass(frozen=True)
class BoardFilter:
    """What the broker board shows: valley, top-level field, how recent, minimum score, page."""

    valley: str | None = None
    field: str | None = None
    days: int = BOARD_DEFAULT_DAYS
    min_score: int | None = None
    include_dismissed: bool = False
    page: int = 1


@dataclass
class BoardRow:
    """One pair on the board with everyone's feedback on it."""

    pair: MatchPair
    feedback: list[MatchFeedback]

    @property
    def dismissed(self) -> bool:
        """Whether someone marked the pair not relevant."""
        return any(item.verdict == Verdict.NOT_RELEVANT for item in self.feedback)


@dataclass
class BoardPage:
    """One page of the board."""

    items: list[BoardRow]
    total: int
    page: int
    per_page: int
    min_score: int

    @property
    def pages(self) -> int:
        """Number of pages."""
        return max(1, -(-self.total // self.per_page))


def list_board(session: Session, actor: User, filters: BoardFilter) -> BoardPage:
    """The strongest current pairs whose newer listing was published in the last `days` days, best first."""
    if not can_use_board(actor):
        raise PermissionDeniedError(_("匹配看板仅对技术经纪人和平台管理员开放。"))
    now = utcnow()
    min_score = filters.min_score if filters.min_score is not None else setting("MATCH_BOARD_THRESHOLD")
    conditions = [MatchPair.is_current.is_(True), MatchPair.score_bp >= min_score * 100,
                  MatchPair.newer_published_at >= now - timedelta(days=filters.days),
                  visible_to_public(Demand, now), visible_to_public(Achievement, now)]
    query = (select(MatchPair).join(Demand, MatchPair.demand_id == Demand.id)
             .join(Achievement, MatchPair.achievement_id == Achievement.id))
    if filters.valley:
        conditions.append(or_(Demand.valley_id == filters.valley, Achievement.valley_id == filters.valley))
    if filters.field:
        demand_field, achievement_field = aliased(Field), aliased(Field)
        query = (query.outerjoin(demand_field, Demand.field_id == demand_field.id)
                 .outerjoin(achievement_field, Achievement.field_id == achievement_field.id))
        prefix = filters.field + "."
        conditions.append(or_(demand_field.code == filters.field,
                              demand_field.code.startswith(prefix, autoescape=True),
                              achievement_field.code == filters.field,
                              achievement_field.code.startswith(prefix, autoescape=True)))
    if not filters.include_dismissed:
        conditions.append(~exists().where(MatchFeedback.demand_id == MatchPair.demand_id,
                                          MatchFeedback.achievement_id == MatchPair.achievement_id,
                                          MatchFeedback.verdict == Verdict.NOT_RELEVANT))
    query = query.where(*conditions)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(1, filters.page)
    pairs = list(session.scalars(
        query.order_by(MatchPair.score_bp.desc(), MatchPair.newer_published_at.desc(), MatchPair.id)
        .offset((page - 1) * BOARD_PAGE_SIZE).limit(BOARD_PAGE_SIZE)
        .options(joinedload(MatchPair.demand).joinedload(Demand.organisation),
                 joinedload(MatchPair.achievement).joinedload(Achievement.organisation))))
    feedback = list_pair_feedback(session, [(pair.demand_id, pair.achievement_id) for pair in pairs])
    rows = [BoardRow(pair=pair, feedback=feedback[(pair.demand_id, pair.achievement_id)]) for pair in pairs]
    return BoardPage(items=rows, total=total, page=page, per_page=BOARD_PAGE_SIZE, min_score=min_score)


# ----------------------------------------------------------------------------------------------- field suggestion
@dataclass(frozen=True)
class FieldSuggestionView:
    """A suggested field of the tree: code, name, the names from the top, and a confidence in [0, 1]."""

    code: str
    name: str
    path: tuple[str, ...]
    confidence: float

    def to_json(self) -> dict:
        """Plain JSON form."""
        return {"code": self.code, "name": self.name, "path": list(self.path), "confidence": self.confidence}


MAX_SUGGEST_TITLE = 200
MAX_SUGGEST_TEXT = 2000
MAX_SUGGEST_KEYWORDS = 300


def suggest_fields(session: Session, *, title: str = "", text: str = "", keywords: str = "",
                   top: int = 3) -> list[FieldSuggestionView]:
    """The fields of the tree most likely for a listing being written, learnt from the published listings."""
    title, text, keywords = ((value or "")[:limit] for value, limit in (
        (title, MAX_SUGGEST_TITLE), (text, MAX_SUGGEST_TEXT), (keywords, MAX_SUGGEST_KEYWORDS)))
    words = tuple(word for word in _KEYWORD_SPLIT.split(keywords) if word)
    draft = Listing(id="draft", title=title, text=text, keywords=words)
    if not draft.indexed_text().strip():
        return []
    suggestions = store_for(current_app).suggester().suggest(draft.indexed_text(), top)
    fields = {row.code: row for row in session.scalars(
        select(Field).where(Field.code.in_([s.label for s in suggestions])))}
    found = []
    for suggestion in suggestions:
        node = fields.get(suggestion.label)
        if node is not None:
            found.append(FieldSuggestionView(code=node.code, name=node.name,
                                             path=tuple(f.name for f in field_path(node)),
                                             confidence=round(float(suggestion.confidence), 3)))
    return found
