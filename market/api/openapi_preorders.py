"""The OpenAPI 3.1 part for a proposed pre-order agreement (recorded by one side, confirmed by the other, or by both
when its broker or an admin recorded it), merged into the API document after the money part."""
import dataclasses

from market.api.openapi import _json, _ref, _values
from market.api.openapi_money import (
    _DATE_OR_NULL,
    _FEN,
    _TIMESTAMP,
    API_PREFIX,
    _coded,
    _decision_route,
    _nullable,
)
from market.confirmations.models import FactStatus
from market.confirmations.table import FactRole
from market.preorders.models import AgreementStatus
from market.preorders.proposals import DECISIONS, SIDES, ProposalChoices

_SIDE = {"type": "string", "enum": [side.value for side in SIDES]}

_PROPOSAL_PROPERTIES = {
    "recorded_by": _nullable(_ref("Party")),
    "recorded_as": {"type": "string", "enum": [FactRole.BUYER.value, FactRole.SELLER.value, FactRole.BROKER.value,
                                               FactRole.ADMIN.value],
                    "description": "登记人登记时的身份：buyer（买方）、seller（卖方）、broker（协议的技术经理人）或 admin。"},
    "status": {**_coded(_values(FactStatus)),
               "description": "recorded：待确认；confirmed：已确认，协议生效；refused：须确认的一方已拒绝；"
                              "withdrawn：登记人已撤回（或原协议终止时随之撤回的变更）。"},
    "awaiting": {"type": "array", "items": _SIDE,
                 "description": "仍须确认的一方：买方登记的由卖方确认，卖方登记的由买方确认，技术经理人或平台管理员登记的"
                                "须双方都确认。"},
    "buyer_confirmed_by": _nullable(_ref("Party")),
    "buyer_confirmed_at": _TIMESTAMP,
    "seller_confirmed_by": _nullable(_ref("Party")),
    "seller_confirmed_at": _TIMESTAMP,
    "decision_note": {"type": "string", "description": "拒绝的理由、确认时的说明，或随原协议终止而撤回的原因。"},
    "decided_at": _TIMESTAMP,
    "created_at": _TIMESTAMP,
    "may": {"type": "object", "additionalProperties": False,
            "required": [field.name for field in dataclasses.fields(ProposalChoices)],
            "properties": {field.name: {"type": "boolean"} for field in dataclasses.fields(ProposalChoices)},
            "description": "调用者现在可以作出的决定。"},
}

PROPOSAL = {"type": "object", "additionalProperties": False, "required": list(_PROPOSAL_PROPERTIES),
            "properties": _PROPOSAL_PROPERTIES,
            "description": "协议（或变更版本）的登记与确认：登记人、各方确认和仍须确认的一方。"}

_ORGANISATION = {"type": "object", "additionalProperties": False, "required": ["id", "name"],
                 "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}

_AGREEMENT_PROPERTIES = {
    "id": {"type": "integer"},
    "number": {"type": "string"},
    "product": {"type": "string"},
    "buyer": _ORGANISATION,
    "seller": _ORGANISATION,
    "broker": _nullable(_ref("Party")),
    "value_fen": _FEN,
    "signed_on": _DATE_OR_NULL,
    "supersedes_id": {"type": ["integer", "null"], "description": "变更版本所变更的协议；新协议为 null。"},
    "status": {**_coded(_values(AgreementStatus)),
               "description": "proposed：待确认（不生效）；signed：履行中；refused、withdrawn：未生效，编号可再次使用；"
                              "completed、terminated、superseded：已结束。"},
    "proposal": {**_nullable(_ref("PreorderProposal")),
                 "description": "登记与确认的情况；确认机制启用前登记的协议为 null。"},
}

AGREEMENT = {"type": "object", "additionalProperties": False, "required": list(_AGREEMENT_PROPERTIES),
             "properties": _AGREEMENT_PROPERTIES, "description": "一份预约采购协议及其确认情况。"}

PATHS = {
    f"{API_PREFIX}/preorders/{{agreement_id}}/{{decision}}": _decision_route(
        "agreement_id", "decide_preorder_agreement", "确认、拒绝或撤回一份待确认的预约采购协议", "money",
        _json(_ref("PreorderAgreement"), "作出决定后的协议。"),
        ("400", "401", "403", "404", "409:DecisionConflict", "413", "415", "422:DecisionUnprocessable"),
        "买方登记的协议由卖方的成员确认，卖方登记的由买方的成员确认，协议的技术经理人或平台管理员登记的"
        "须买卖双方各有一名成员确认；登记人本人、技术经理人和平台管理员都不能确认（403）。最后一方确认后"
        "协议才生效（signed），并在同一事务中计入政策引擎；变更版本确认后取代原协议，确认前原协议继续"
        "有效。须确认的一方可以拒绝（须写理由），登记人可以撤回；拒绝或撤回的协议编号可再次使用。"
        "已处理的协议为 409；看不到协议的为 404。",
        decisions=DECISIONS,
        decisions_meaning="confirm：须确认的一方确认；refuse：须确认的一方拒绝（须写理由）；withdraw：登记人撤回。"
                          "其他值为 404。"),
}


def add_preorder_agreements(document: dict) -> dict:
    """Add the agreement decision operation and its schemas to the API document."""
    document["paths"].update(PATHS)
    document["components"]["schemas"].update({"PreorderAgreement": AGREEMENT, "PreorderProposal": PROPOSAL})
    return document
