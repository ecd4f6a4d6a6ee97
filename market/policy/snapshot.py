"""The engine's PolicyState as JSON-ready data and back, so the app can keep it in one database row."""
import datetime as dt
from typing import Any

from market.policy.events import IntermediaryShare
from market.policy.rules import CapScope
from market.policy.state import (
    AgreementRecord,
    CapKey,
    CapUsage,
    ContractRecord,
    PolicyState,
)


def state_to_data(state: PolicyState) -> dict[str, Any]:
    """Plain JSON data for a state."""
    return {
        "agreements": [
            {"agreement": a.agreement, "buyer": a.buyer, "seller": a.seller, "value_fen": a.value_fen,
             "signed_on": a.signed_on.isoformat(), "related": a.related, "paid_fen": a.paid_fen}
            for a in state.agreements.values()
        ],
        "contracts": [
            {"contract": c.contract, "achievement": c.achievement, "transferor": c.transferor,
             "transferee": c.transferee, "value_fen": c.value_fen, "reward_rate_bp": c.reward_rate_bp,
             "signed_on": c.signed_on.isoformat(), "agent": c.agent, "registered": c.registered, "paid_fen": c.paid_fen,
             "intermediaries": [{"person": i.person, "share_bp": i.share_bp} for i in c.intermediaries]}
            for c in state.contracts.values()
        ],
        "intermediaries": {achievement: sorted(people) for achievement, people in state.intermediaries.items()},
        "cap_usage": [
            {"rule": key.rule, "scope": key.scope.value, "subject": key.subject, "year": key.year,
             "granted_fen": usage.granted_fen, "grants": usage.grants}
            for key, usage in state.cap_usage.items()
        ],
    }


def state_from_data(data: dict[str, Any] | None) -> PolicyState:
    """The state stored by state_to_data (an empty state for None)."""
    if not data:
        return PolicyState()
    agreements = {
        row["agreement"]: AgreementRecord(agreement=row["agreement"], buyer=row["buyer"], seller=row["seller"],
                                          value_fen=row["value_fen"], signed_on=dt.date.fromisoformat(row["signed_on"]),
                                          related=row["related"], paid_fen=row["paid_fen"])
        for row in data.get("agreements", [])
    }
    contracts = {
        row["contract"]: ContractRecord(
            contract=row["contract"], achievement=row["achievement"], transferor=row["transferor"],
            transferee=row["transferee"], value_fen=row["value_fen"], reward_rate_bp=row["reward_rate_bp"],
            signed_on=dt.date.fromisoformat(row["signed_on"]), agent=row["agent"], registered=row["registered"],
            paid_fen=row["paid_fen"],
            intermediaries=tuple(IntermediaryShare(i["person"], i["share_bp"]) for i in row["intermediaries"]))
        for row in data.get("contracts", [])
    }
    intermediaries = {achievement: frozenset(people) for achievement, people in data.get("intermediaries", {}).items()}
    cap_usage = {
        CapKey(row["rule"], CapScope(row["scope"]), row["subject"], row["year"]):
            CapUsage(granted_fen=row["granted_fen"], grants=row["grants"])
        for row in data.get("cap_usage", [])
    }
    return PolicyState(agreements=agreements, contracts=contracts, intermediaries=intermediaries, cap_usage=cap_usage)
