"""The confirmation table in docs/ is the one the services enforce, and it never lets a recorder confirm alone."""
import re
from pathlib import Path

from market.confirmations.table import FACTS, FactRole, markdown_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "confirmations.md"


def test_the_documented_table_is_the_declared_one():
    text = DOC.read_text(encoding="utf-8")
    shown = re.search(r"<!-- table:start -->\n(.*?)\n<!-- table:end -->", text, re.DOTALL).group(1)
    assert shown == markdown_table()


def test_no_recorder_confirms_its_own_kind_of_record():
    for fact in FACTS:
        for recorder, confirmers in fact.confirmed_by.items():
            assert confirmers and recorder not in confirmers, fact.kind


def test_every_enforced_money_fact_names_who_records_and_who_confirms():
    money = {fact.kind for fact in FACTS if fact.confirmed_by}
    assert {"deal_payment", "preorder_payment"} <= {str(kind) for kind in money}
    payments = [fact for fact in FACTS if str(fact.kind).endswith("_payment")]
    assert payments and all(FactRole.ADMIN not in fact.confirmed_by for fact in payments), \
        "admins settle payments, they do not assert them"
