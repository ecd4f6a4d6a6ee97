"""The declared content of an achievement: fields, types, limits, required values and rules across fields."""
from typing import Annotated

from flask_babel import gettext as _
from pydantic import ConfigDict, Field
from typing_extensions import TypedDict

from market.declared import choice, choices, cleaned_by, fen, integer, terms, text
from market.inputs import FieldErrors, check_money_range, clean_choice, clean_int, clean_text
from market.listings.editing import ListingContent
from market.listings.vocabulary import STAGE_TRL_RANGES, IpKind, PriceType, Stage, TransferMode

MAX_IP_ITEMS = 20
IP_NUMBER_MAX_LENGTH = 40
MAX_OWNERS = 10
OWNER_NAME_MAX_LENGTH = 120
WHOLE_SHARE_BP = 10000


class IpItem(TypedDict):
    """A patent, software copyright … by its number and kind."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    number: Annotated[str, Field(max_length=IP_NUMBER_MAX_LENGTH)]
    kind: IpKind


class Owner(TypedDict):
    """A right holder and its share in basis points."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    name: Annotated[str, Field(max_length=OWNER_NAME_MAX_LENGTH)]
    share_bp: Annotated[int, Field(ge=1, le=WHOLE_SHARE_BP)]


def clean_ip_items(errors: FieldErrors, name: str, items) -> list[dict]:
    """IP items as {number, kind}; at most MAX_IP_ITEMS."""
    if items in (None, ""):
        return []
    if not isinstance(items, list) or len(items) > MAX_IP_ITEMS:
        errors.add(name, _("知识产权最多 %(n)s 项。", n=MAX_IP_ITEMS))
        return []
    cleaned = []
    for item in items:
        if not isinstance(item, dict) or set(item) - {"number", "kind"}:
            errors.add(name, _("知识产权格式应为 编号 + 类型。"))
            return []
        number = clean_text(errors, name, item.get("number"), max_len=IP_NUMBER_MAX_LENGTH, required=True,
                            multiline=False)
        kind = clean_choice(errors, name, item.get("kind"), IpKind)
        if number and kind:
            cleaned.append({"number": number, "kind": kind.value})
    return cleaned


def clean_owners(errors: FieldErrors, name: str, owners) -> list[dict]:
    """Right holders as {name, share_bp}; the shares add up to 100 %."""
    if owners in (None, ""):
        return []
    if not isinstance(owners, list) or len(owners) > MAX_OWNERS:
        errors.add(name, _("权利人最多 %(n)s 个。", n=MAX_OWNERS))
        return []
    cleaned = []
    for owner in owners:
        if not isinstance(owner, dict) or set(owner) - {"name", "share_bp"}:
            errors.add(name, _("权利人格式应为 名称 + 份额。"))
            return []
        owner_name = clean_text(errors, name, owner.get("name"), max_len=OWNER_NAME_MAX_LENGTH, required=True,
                                multiline=False)
        share = clean_int(errors, name, owner.get("share_bp"), low=1, high=WHOLE_SHARE_BP, required=True)
        if owner_name and share:
            cleaned.append({"name": owner_name, "share_bp": share})
    if cleaned and sum(owner["share_bp"] for owner in cleaned) != WHOLE_SHARE_BP:
        errors.add(name, _("权利人份额合计应为 100%。"))
    return cleaned


class AchievementContent(ListingContent):
    """The content of an achievement, as created and edited through the pages, the API and imports."""

    summary: text(1000, required=True, description="成果简介。")
    description_public: text(10000, description="公开的详细介绍。")
    description_confidential: text(10000, description="保密信息：仅本机构和平台管理员可见。")
    trl: integer(1, 9, required=True, description="技术就绪度，须与成熟度阶段一致。")
    stage: choice(Stage, description="成熟度阶段。")
    ip_items: Annotated[list[IpItem] | None, Field(None, max_length=MAX_IP_ITEMS, description="知识产权。"),
                        cleaned_by(clean_ip_items)]
    modes: choices(TransferMode, required=True, description="转化方式代码。")
    price_type: choice(PriceType, description="价格类型；面议时不保存金额。")
    price_min_fen: fen("参考价或底价（分）；参考价和底价必填。")
    price_max_fen: fen("价格上限（分），不低于下限。")
    owners: Annotated[list[Owner] | None,
                      Field(None, max_length=MAX_OWNERS, description="权利人及份额（基点，合计 10000）；省略时为本机构 100%。"),
                      cleaned_by(clean_owners)]
    inventors: terms(30, 30, description="完成人。")
    benefits: text(2000, description="技术优势。")
    scenarios: text(2000, description="应用场景。")

    @classmethod
    def check_together(cls, values: dict, errors: FieldErrors) -> None:
        """The stage fits the TRL; a reference or floor price names an amount; a negotiable price stores none."""
        trl, stage, price_type = values.get("trl"), values.get("stage"), values.get("price_type")
        if trl and stage and trl not in STAGE_TRL_RANGES[stage]:
            errors.add("stage", _("成熟度阶段与技术就绪度（TRL %(trl)s）不一致。", trl=trl))
        if price_type in (PriceType.REFERENCE, PriceType.FLOOR) and values.get("price_min_fen") is None:
            errors.add("price_min_fen", _("参考价或底价需要填写金额。"))
        if price_type == PriceType.NEGOTIABLE:
            values["price_min_fen"] = values["price_max_fen"] = None
        check_money_range(errors, "price_min_fen", values.get("price_min_fen"), "price_max_fen",
                          values.get("price_max_fen"))
