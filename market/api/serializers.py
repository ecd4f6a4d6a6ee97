"""JSON shapes of listings: money in integer fen, vocabulary as code and label, ISO dates, links."""
from datetime import date, datetime

from flask import url_for

from market.achievements.models import Achievement
from market.demands.models import Demand
from market.listings.queries import SearchResult
from market.listings.vocabulary import ListingKind, label
from market.matching.models import feedback_label
from market.matching.services import ListingMatches, MatchView
from market.taxonomy.services import field_path


def iso(value: date | datetime | None) -> str | None:
    """A date as YYYY-MM-DD, a naive UTC timestamp as RFC 3339 with Z, None as None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat() + "Z"
    return value.isoformat()


def coded(value) -> dict | None:
    """A vocabulary value as {"code", "label"}."""
    if value is None:
        return None
    return {"code": str(value), "label": label(value)}


def _field(field) -> dict | None:
    if field is None:
        return None
    return {"code": field.code, "name": field.name,
            "path": [{"code": node.code, "name": node.name} for node in field_path(field)]}


def _common(listing, endpoint: str, api_endpoint: str, id_name: str, *, manager: bool) -> dict:
    data = {
        "id": listing.id,
        "kind": str(listing.kind),
        "title": listing.title,
        "title_en": listing.title_en or "",
        "summary_en": listing.summary_en or "",
        "keywords": list(listing.keywords or []),
        "field": _field(listing.field),
        "modes": [coded(mode) for mode in listing.modes],
        "organisation": {"id": listing.organisation_id, "name": listing.organisation.name},
        "valley": {"id": listing.valley.id, "name": listing.valley.name} if listing.valley else None,
        "region": listing.region,
        "status": coded(listing.status),
        "created_at": iso(listing.created_at),
        "updated_at": iso(listing.updated_at),
        "published_at": iso(listing.published_at),
        "expires_at": iso(listing.expires_at),
        "urls": {
            "api": url_for(api_endpoint, **{id_name: listing.id}),
            "page": url_for(endpoint, **{id_name: listing.id}),
        },
    }
    if manager:
        data["review"] = {"return_reason": coded(listing.return_reason), "return_comment": listing.return_comment or ""}
    return data


def achievement_json(achievement: Achievement, *, confidential: bool, manager: bool | None = None) -> dict:
    """An achievement; `confidential` (its organisation, admins and grantees who accepted the statement) adds the
    confidential part, `manager` (its organisation and admins; `confidential` unless told) the review notes."""
    data = _common(achievement, "achievements.detail", "api.get_achievement", "achievement_id",
                   manager=confidential if manager is None else manager)
    data.update({
        "summary": achievement.summary,
        "description_public": achievement.description_public or "",
        "has_confidential": bool(achievement.description_confidential),
        "trl": achievement.trl,
        "stage": coded(achievement.stage),
        "ip_items": [{"number": item["number"], "kind": coded(item["kind"])} for item in achievement.ip_items or []],
        "price_type": coded(achievement.price_type),
        "price_min_fen": achievement.price_min_fen,
        "price_max_fen": achievement.price_max_fen,
        "owners": [{"name": owner["name"], "share_bp": owner["share_bp"]} for owner in achievement.owners or []],
        "inventors": list(achievement.inventors or []),
        "benefits": achievement.benefits or "",
        "scenarios": achievement.scenarios or "",
    })
    if confidential:
        data["description_confidential"] = achievement.description_confidential or ""
    return data


def demand_json(demand: Demand, *, confidential: bool) -> dict:
    """A demand; `confidential` (its organisation and admins) adds the review notes."""
    data = _common(demand, "demands.detail", "api.get_demand", "demand_id", manager=confidential)
    data.update({
        "description": demand.description,
        "budget_min_fen": demand.budget_min_fen,
        "budget_max_fen": demand.budget_max_fen,
        "wanted_trl_min": demand.wanted_trl_min,
        "deadline": iso(demand.deadline),
    })
    return data


def page_json(result: SearchResult, serialise) -> dict:
    """One page of search results; list items never carry confidential parts."""
    return {
        "items": [serialise(item, confidential=False) for item in result.items],
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
        "pages": result.pages,
        "suggestion": result.suggestion,
    }


def _listing_link(listing) -> dict:
    """A listing as a short reference: id, kind, title, organisation, field and links."""
    if listing.kind == ListingKind.ACHIEVEMENT:
        urls = {"api": url_for("api.get_achievement", achievement_id=listing.id),
                "page": url_for("achievements.detail", achievement_id=listing.id)}
    else:
        urls = {"api": url_for("api.get_demand", demand_id=listing.id),
                "page": url_for("demands.detail", demand_id=listing.id)}
    return {"id": listing.id, "kind": str(listing.kind), "title": listing.title,
            "organisation": {"id": listing.organisation_id, "name": listing.organisation.name},
            "field": _field(listing.field), "urls": urls}


def _feedback_coded(value) -> dict:
    return {"code": str(value), "label": feedback_label(value)}


def match_json(view: MatchView) -> dict:
    """One ranked match: the other listing, the score (points 0–100) and the explanation."""
    feedback = view.my_feedback
    return {
        "score": round(view.score, 2),
        "listing": _listing_link(view.other),
        "explanation": {
            "shared_terms": list(view.shared_terms),
            "field_path": list(view.field_path),
            "field_inferred": view.field_inferred,
            "structured_counted": view.structured_counted,
            "factors": [{"factor": f.name, "label": f.label, "points": f.points, "max_points": f.max_points,
                         "similarity": None if f.similarity is None else round(f.similarity, 4)}
                        for f in view.factors],
            "snippets": {"query": {"text": view.query_snippet.text, "terms": list(view.query_snippet.terms)},
                         "match": {"text": view.other_snippet.text, "terms": list(view.other_snippet.terms)}},
        },
        "feedback": None if feedback is None else {
            "verdict": _feedback_coded(feedback.verdict), "reason": _feedback_coded(feedback.reason),
            "comment": feedback.comment or "", "updated_at": iso(feedback.updated_at)},
        "dismissed": view.dismissed,
    }


def matches_json(found: ListingMatches) -> dict:
    """A listing's matches, best first (those the caller's organisation marked not relevant last)."""
    return {"listing": _listing_link(found.listing), "items": [match_json(view) for view in found.matches]}
