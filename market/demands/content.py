"""The declared content of a demand: fields, types, limits, required values and rules across fields."""
from datetime import date

from market.declared import choices, day, fen, integer, text
from market.inputs import FieldErrors, check_money_range
from market.listings.editing import ListingContent
from market.listings.vocabulary import TransferMode
from market.timeutil import today_in_china

EARLIEST_DEADLINE = date(2000, 1, 1)
DEADLINE_YEARS_AHEAD = 10


def _latest_deadline() -> date:
    return date(today_in_china().year + DEADLINE_YEARS_AHEAD, 12, 31)


class DemandContent(ListingContent):
    """The content of a demand, as created and edited through the pages and the API."""

    description: text(10000, required=True, description="需求描述。")
    budget_min_fen: fen("预算下限（分）。")
    budget_max_fen: fen("预算上限（分），不低于下限。")
    wanted_trl_min: integer(1, 9, description="期望的最低技术就绪度。")
    modes: choices(TransferMode, description="可接受的合作方式代码。")
    deadline: day(lambda: EARLIEST_DEADLINE, _latest_deadline, description="截止日期（YYYY-MM-DD）。")

    @classmethod
    def check_together(cls, values: dict, errors: FieldErrors) -> None:
        """The budget's lower bound does not exceed the upper one."""
        check_money_range(errors, "budget_min_fen", values.get("budget_min_fen"), "budget_max_fen",
                          values.get("budget_max_fen"))
