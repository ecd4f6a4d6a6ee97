"""Request bodies of the API's listing writes, derived from each kind's declared content (plus the submit flag)."""
from functools import cache

from pydantic import Field, StrictBool, create_model

from market.declared import DeclaredInput
from market.listings.editing import ListingType

SUBMIT_DESCRIPTION = "true：保存后直接提交审核；false 或省略：保存为草稿（修改已发布的信息总会重新送审）。"


@cache
def request_model(content: type[DeclaredInput]) -> type[DeclaredInput]:
    """The request body of a kind: its content (AchievementContent → AchievementInput) and "submit"."""
    return create_model(content.__name__.removesuffix("Content") + "Input", __base__=content,
                        submit=(StrictBool, Field(False, description=SUBMIT_DESCRIPTION)))


def listing_request(listing_type: ListingType) -> type[DeclaredInput]:
    """The request body of the kind's POST and PUT."""
    return request_model(listing_type.content)
