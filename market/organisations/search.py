"""Finding approved organisations by name and description, with the query cut into terms as listing search cuts it."""
from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session, joinedload

from market.accounts.models import ApprovalStatus, Organisation
from market.listings.search import query_words
from market.page_cache import remember

NAME_HIT_WEIGHT = 4
"""A term found in the name counts this many times more than one found only in the description."""


@dataclass(frozen=True)
class OrganisationPage:
    """One page of organisations with the total and the query terms (for highlighting)."""

    items: list[Organisation]
    total: int
    page: int
    per_page: int
    terms: list[str]

    @property
    def pages(self) -> int:
        """Number of pages."""
        return max(1, -(-self.total // self.per_page))


def _sum(expressions: list[ColumnElement]) -> ColumnElement:
    total = expressions[0]
    for expression in expressions[1:]:
        total = total + expression
    return total


def search_organisations(session: Session, query: str, *, page: int = 1, per_page: int = 20) -> OrganisationPage:
    """Approved organisations whose name or description holds any query term, those holding more terms (and holding
    them in the name) first; every approved organisation by name when the query has no term."""
    terms = query_words(query) if query.strip() else []
    page, per_page = max(page, 1), max(per_page, 1)
    statement = select(Organisation).where(Organisation.status == ApprovalStatus.APPROVED)
    if terms:
        name, description = func.lower(Organisation.name), func.lower(Organisation.description)
        in_name = [name.contains(term, autoescape=True) for term in terms]
        in_description = [description.contains(term, autoescape=True) for term in terms]
        found = _sum([case((or_(named, described), 1), else_=0) for named, described in zip(in_name, in_description)])
        named = _sum([case((condition, NAME_HIT_WEIGHT), else_=0) for condition in in_name])
        statement = statement.where(or_(*in_name, *in_description))
        order = [found.desc(), named.desc(), Organisation.name, Organisation.id]
    else:
        order = [Organisation.name, Organisation.id]
    total = session.scalar(select(func.count()).select_from(statement.with_only_columns(Organisation.id).subquery()))
    items = list(session.scalars(statement.options(joinedload(Organisation.valley)).order_by(*order)
                                 .limit(per_page).offset((page - 1) * per_page)))
    return OrganisationPage(items=items, total=total or 0, page=page, per_page=per_page, terms=terms)


def count_organisations(session: Session, query: str) -> int:
    """How many approved organisations the organisation search finds for the query (kept until public content
    changes)."""
    return remember("organisation-count", (query,), lambda: search_organisations(session, query, per_page=1).total)
