"""Who records each money-earning fact and who confirms it: the one declaration the services enforce and the docs show."""
from dataclasses import dataclass
from enum import StrEnum


class FactRole(StrEnum):
    """A role someone acts in when recording or confirming a fact."""

    TRANSFEROR = "transferor"
    TRANSFEREE = "transferee"
    BUYER = "buyer"
    SELLER = "seller"
    BROKER = "broker"
    ORGANISATION = "organisation"
    ADMIN = "admin"


class FactKind(StrEnum):
    """The facts and steps of the table."""

    DEAL_BROKER = "deal_broker"
    EARLY_STAGES = "early_stages"
    DEAL_TERMS = "deal_terms"
    NOTICE = "notice"
    SIGNING = "signing"
    REGISTRATION = "registration"
    DEAL_PAYMENT = "deal_payment"
    PREORDER_AGREEMENT = "preorder_agreement"
    DELIVERY = "delivery"
    PREORDER_PAYMENT = "preorder_payment"
    ORGANISATION_VERIFICATION = "organisation_verification"
    RESIDENCY = "residency"


@dataclass(frozen=True)
class Fact:
    """One row: what is recorded, by whom, and who confirms it for each recorder (empty: nobody needs to); with
    `every_confirmer`, each of the recorder's confirmers must confirm, otherwise any one of them does."""

    kind: FactKind
    name: str
    records: str
    confirms: str
    confirmed_by: dict[FactRole, frozenset[FactRole]]
    enforced: bool
    every_confirmer: bool = False


def _roles(*roles: FactRole) -> frozenset[FactRole]:
    return frozenset(roles)


R = FactRole
FACTS: tuple[Fact, ...] = (
    Fact(FactKind.DEAL_BROKER, "a broker on a deal", "a party invites, or the broker asks, or the broker introduces "
         "an achievement to a demand or an enterprise", "the broker accepts / both parties accept (both sides' "
         "acceptances of an introduction open the deal with him)", {}, True),
    Fact(FactKind.EARLY_STAGES, "moves 意向 → 洽谈 → 协议定价", "either party or the deal's accepted broker",
         "– (all are told)", {}, True),
    Fact(FactKind.DEAL_TERMS, "terms: price, mode, reward rate, intermediaries and shares, agent, 佣金",
         "a party or the broker (each change is a new version that voids earlier acceptances)",
         "the transferor and the transferee (a party member's own change counts for his side, the broker's for neither "
         "party); each named intermediary for their share", {}, True),
    Fact(FactKind.NOTICE, "start of 公示 (terms then lock; a change needs a new notice)",
         "a party or the broker, once terms are accepted",
         "– (both parties and every named intermediary accepted the noticed version; a party may withdraw the "
         "notice with a reason, which reopens the terms)", {}, True),
    Fact(FactKind.SIGNING, "signing (date, amount = the noticed amount)", "the transferor or the broker",
         "the transferee (the deal stays in its notice stage until then; a disputed signing is settled by an admin "
         "or withdrawn by its recorder)",
         {R.TRANSFEROR: _roles(R.TRANSFEREE), R.BROKER: _roles(R.TRANSFEREE)}, True),
    Fact(FactKind.REGISTRATION, "technology contract registration (number, date, certificate PDF)",
         "the transferor or the broker",
         "an admin, against the certificate (until then the awards it earns are held; a refusal reverses them and "
         "the deal returns to signing for a corrected registration)",
         {R.TRANSFEROR: _roles(R.ADMIN), R.BROKER: _roles(R.ADMIN)}, True),
    Fact(FactKind.DEAL_PAYMENT, "proceeds payment (amount, date, bank receipt or invoice)",
         "the transferee, the transferor or the broker",
         "the transferee (payer) when the transferor or broker recorded it, the transferor when the transferee did; "
         "or an admin against the evidence",
         {R.TRANSFEROR: _roles(R.TRANSFEREE, R.ADMIN), R.BROKER: _roles(R.TRANSFEREE, R.ADMIN),
          R.TRANSFEREE: _roles(R.TRANSFEROR, R.ADMIN)}, True),
    Fact(FactKind.PREORDER_AGREEMENT, "pre-order agreement (and each amended version)",
         "either party, its broker or an admin",
         "the other party (the seller when the buyer recorded it, the buyer when the seller did; both when the broker "
         "or an admin did); it is signed, and told to the policy engine, only with the last confirmation, and an "
         "amendment leaves the signed version in force until then",
         {R.BUYER: _roles(R.SELLER), R.SELLER: _roles(R.BUYER), R.BROKER: _roles(R.BUYER, R.SELLER),
          R.ADMIN: _roles(R.BUYER, R.SELLER)}, True, every_confirmer=True),
    Fact(FactKind.DELIVERY, "delivery / acceptance", "the seller or its broker / –", "the buyer accepts", {}, True),
    Fact(FactKind.PREORDER_PAYMENT, "pre-order payment (with evidence)", "the buyer or its broker",
         "the seller when the buyer recorded it, the buyer (payer) when the agreement's broker did; or an admin "
         "against the evidence",
         {R.BUYER: _roles(R.SELLER, R.ADMIN), R.BROKER: _roles(R.BUYER, R.ADMIN)}, True),
    Fact(FactKind.ORGANISATION_VERIFICATION,
         "organisation verification (统一社会信用代码 with its GB 32100 check character, business licence PDF)",
         "the organisation", "an admin", {R.ORGANISATION: _roles(R.ADMIN)}, True),
    Fact(FactKind.RESIDENCY, "valley residency (valley, entry date, 入驻 agreement PDF)", "an admin",
         "– (kept as history: a change appends)", {}, True),
)
FACT_BY_KIND = {fact.kind: fact for fact in FACTS}


def markdown_table() -> str:
    """The table as docs/confirmations.md shows it, with whether the services enforce each row yet."""
    lines = ["| fact or step | records / proposes | confirms / verifies | enforced |", "|---|---|---|---|"]
    lines += [f"| {fact.name} | {fact.records} | {fact.confirms} | {'yes' if fact.enforced else 'not yet'} |"
              for fact in FACTS]
    return "\n".join(lines)
