"""Request bodies of the API's listing writes, derived from each kind's declared content (plus the submit flag)."""
from functools import cache

from pydantic import Field, StrictBool, create_model

from market.declared import DeclaredInput
from market.listings.editing import ListingType

SUBMIT_DESCRIPTION = "true：保存后直接提交审核；false 或省略：保存为草稿（修改已发布的信息总会重新送审）。"


@cache
def _request_model(content: type[DeclaredInput], name: str) -> type[DeclaredInput]:
    return create_model(name, __base__=content, submit=(StrictBool, Field(False, description=SUBMIT_DESCRIPTION)))


def listing_request(listing_type: ListingType) -> type[DeclaredInput]:
    """The request body of the kind's POST and PUT: its declared content and "submit" (AchievementInput …)."""
    return _request_model(listing_type.content, f"{listing_type.kind.value.title()}Input")
