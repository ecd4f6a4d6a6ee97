"""The marketplace's controlled vocabulary: maturity stages, transfer modes, IP kinds, price types, return reasons."""
from enum import StrEnum

from flask_babel import lazy_gettext as _l


class ListingKind(StrEnum):
    """The two kinds of listing."""

    ACHIEVEMENT = "achievement"
    DEMAND = "demand"


class ListingStatus(StrEnum):
    """草稿 → 待审核 → 已发布 (or 退回 → edited → 待审核), 已下架, 已过期, 已成交."""

    DRAFT = "draft"
    PENDING = "pending"
    PUBLISHED = "published"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    DEALT = "dealt"


class Stage(StrEnum):
    """Maturity stage of an achievement."""

    LAB = "lab"
    SMALL_PILOT = "small_pilot"
    PILOT = "pilot"
    INDUSTRIAL = "industrial"


class TransferMode(StrEnum):
    """How a result changes hands."""

    ASSIGNMENT = "assignment"
    LICENSE_ORDINARY = "license_ordinary"
    LICENSE_EXCLUSIVE = "license_exclusive"
    EQUITY = "equity"
    CO_DEVELOPMENT = "co_development"
    TECH_SERVICE = "tech_service"


class IpKind(StrEnum):
    """Kind of intellectual property behind an achievement."""

    INVENTION_PATENT = "invention_patent"
    UTILITY_MODEL = "utility_model"
    SOFTWARE_COPYRIGHT = "software_copyright"
    KNOW_HOW = "know_how"


class PriceType(StrEnum):
    """How the listed price is meant."""

    REFERENCE = "reference"
    FLOOR = "floor"
    NEGOTIABLE = "negotiable"


class ReturnReason(StrEnum):
    """Structured reasons a reviewer returns a listing."""

    INCOMPLETE = "incomplete"
    NOT_TECHNOLOGY = "not_technology"
    DUPLICATE = "duplicate"
    SENSITIVE = "sensitive"
    PRICE_UNCLEAR = "price_unclear"
    WRONG_FIELD = "wrong_field"
    OTHER = "other"


LABELS = {
    ListingKind.ACHIEVEMENT: _l("科技成果"),
    ListingKind.DEMAND: _l("技术需求"),
    ListingStatus.DRAFT: _l("草稿"),
    ListingStatus.PENDING: _l("待审核"),
    ListingStatus.PUBLISHED: _l("已发布"),
    ListingStatus.RETURNED: _l("退回"),
    ListingStatus.WITHDRAWN: _l("已下架"),
    ListingStatus.EXPIRED: _l("已过期"),
    ListingStatus.DEALT: _l("已成交"),
    Stage.LAB: _l("实验室"),
    Stage.SMALL_PILOT: _l("小试"),
    Stage.PILOT: _l("中试"),
    Stage.INDUSTRIAL: _l("产业化"),
    TransferMode.ASSIGNMENT: _l("转让"),
    TransferMode.LICENSE_ORDINARY: _l("普通许可"),
    TransferMode.LICENSE_EXCLUSIVE: _l("独占许可"),
    TransferMode.EQUITY: _l("作价投资"),
    TransferMode.CO_DEVELOPMENT: _l("合作开发"),
    TransferMode.TECH_SERVICE: _l("技术服务"),
    IpKind.INVENTION_PATENT: _l("发明专利"),
    IpKind.UTILITY_MODEL: _l("实用新型"),
    IpKind.SOFTWARE_COPYRIGHT: _l("软件著作权"),
    IpKind.KNOW_HOW: _l("技术秘密"),
    PriceType.REFERENCE: _l("参考价"),
    PriceType.FLOOR: _l("底价"),
    PriceType.NEGOTIABLE: _l("面议"),
    ReturnReason.INCOMPLETE: _l("信息不完整"),
    ReturnReason.NOT_TECHNOLOGY: _l("不属于科技成果或技术需求"),
    ReturnReason.DUPLICATE: _l("重复发布"),
    ReturnReason.SENSITIVE: _l("涉密或敏感内容"),
    ReturnReason.PRICE_UNCLEAR: _l("价格信息不合理"),
    ReturnReason.WRONG_FIELD: _l("领域选择有误"),
    ReturnReason.OTHER: _l("其他"),
}


def label(value) -> str:
    """The display label of a vocabulary value (in the current language)."""
    found = LABELS.get(value)
    return str(found) if found is not None else str(value)


def choices(enum_class) -> list[tuple[str, str]]:
    """(value, label) pairs for a form's choices."""
    return [(member.value, LABELS[member]) for member in enum_class]


STAGE_TRL_RANGES = {
    Stage.LAB: range(1, 5),
    Stage.SMALL_PILOT: range(4, 6),
    Stage.PILOT: range(6, 8),
    Stage.INDUSTRIAL: range(8, 10),
}
