"""What the audit log records: the audited tables with their fields, and the columns it never writes."""
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

EXCLUDED_COLUMNS = frozenset({
    "password_hash", "token_hash", "code_hash", "encrypted_secret", "secret", "session_token", "cookie",
    "totp_secret",
})
"""Columns never written to the audit log, whatever a declaration below names."""
SECRET_NAME = re.compile(r"password|token_hash|secret|cookie|session_token|code_hash", re.IGNORECASE)
"""A column whose name matches is treated as excluded too (a new secret column is safe before anyone lists it)."""

CREATED, DELETED, CHANGED = "created", "deleted", "changed"
FAILED_LOGIN = "login.failed"
FAILED_LOGIN_CODE = "login.code_failed"
LOGIN_OBJECT = "login"


def is_excluded(column: str) -> bool:
    """Whether a column must never reach the audit log."""
    return column in EXCLUDED_COLUMNS or bool(SECRET_NAME.search(column))


@dataclass(frozen=True)
class Audited:
    """One audited table: the fields recorded when a row is created or deleted, and the update actions that group
    them (a changed field outside every group is recorded under `changed`)."""

    table: str
    object_type: str
    fields: tuple[str, ...]
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self):
        kept = tuple(name for name in self.fields if not is_excluded(name))
        object.__setattr__(self, "fields", kept)
        groups = {action: tuple(name for name in names if name in kept) for action, names in self.groups.items()}
        object.__setattr__(self, "groups", MappingProxyType(groups))
        group_of = {name: action for action, names in groups.items() for name in names}
        object.__setattr__(self, "group_of", MappingProxyType({name: group_of.get(name, CHANGED) for name in kept}))

    def actions(self) -> tuple[str, ...]:
        """Every action code this table's rows can produce."""
        updates = tuple(self.groups) + ((CHANGED,) if CHANGED in self.group_of.values() else ())
        return tuple(f"{self.object_type}.{verb}" for verb in (CREATED, *updates, DELETED))


_CONFIRMABLE = ("recorded_by_id", "recorded_as", "status", "decided_by_id", "decided_at", "dispute_reason",
                "decision_note", "policy_event_id", "evidence_original_name", "evidence_uploaded_by_id")
_CONFIRMATION = {"confirmation": ("status", "decided_by_id", "decided_at", "dispute_reason", "decision_note",
                                  "policy_event_id"),
                 "evidence": ("evidence_original_name", "evidence_uploaded_by_id")}
_LISTING = ("title", "organisation_id", "status", "return_reason", "return_comment")
_REVIEW = {"review": ("status", "return_reason", "return_comment")}

AUDITED: tuple[Audited, ...] = (
    # money
    Audited("policy_events", "policy_event", ("event_type", "happened_on", "payload", "rejection", "recorded_by_id")),
    Audited("awards", "award",
            ("policy_event_id", "rule", "recipient", "payer", "computed_fen", "granted_fen", "status", "capped_by",
             "waived_by", "tops_up", "hold_reason", "event_date", "deal_id", "agreement_id", "approved_by_id", "paid_on",
             "voucher_reference", "recovery_reference", "recovered_on"),
            {"status": ("status", "granted_fen", "approved_by_id", "paid_on", "voucher_reference", "recovery_reference",
                        "recovered_on", "hold_reason")}),
    Audited("ledger_transactions", "ledger_transaction", ("kind", "memo", "award_id", "reverses_id", "created_by_id")),
    Audited("ledger_entries", "ledger_entry", ("transaction_id", "account", "amount_fen")),
    Audited("startup_grants", "startup_grant",
            ("organisation_id", "granted_on", "founders_paid_in_fen", "awarded_fen", "policy_event_id",
             "recorded_by_id")),
    Audited("deal_payments", "deal_payment", ("deal_id", "paid_on", "amount_fen", *_CONFIRMABLE), _CONFIRMATION),
    Audited("preorder_payments", "preorder_payment", ("agreement_id", "paid_on", "amount_fen", *_CONFIRMABLE),
            _CONFIRMATION),
    Audited("preorder_agreements", "preorder_agreement",
            ("number", "buyer_id", "seller_id", "broker_id", "product", "quantity", "unit_price_fen", "value_fen",
             "signed_on", "is_related_party", "status", "supersedes_id", "accepted_fen", "paid_fen",
             "termination_reason", "terminated_on", "terminated_by_id", "created_by_id"),
            {"status": ("status", "termination_reason", "terminated_on", "terminated_by_id"),
             "totals": ("accepted_fen", "paid_fen"), "broker": ("broker_id",)}),
    Audited("preorder_proposals", "preorder_proposal",
            ("agreement_id", "recorded_by_id", "recorded_as", "status", "buyer_confirmed_by_id", "buyer_confirmed_at",
             "seller_confirmed_by_id", "seller_confirmed_at", "decided_by_id", "decided_at", "decision_note"),
            {"confirmation": ("status", "buyer_confirmed_by_id", "buyer_confirmed_at", "seller_confirmed_by_id",
                              "seller_confirmed_at", "decided_by_id", "decided_at", "decision_note")}),
    Audited("preorder_deliveries", "preorder_delivery",
            ("agreement_id", "delivered_on", "quantity", "amount_fen", "accepted_on", "accepted_by_id",
             "recorded_by_id"),
            {"acceptance": ("accepted_on", "accepted_by_id")}),
    # deals: stage, terms, their consents and brokers
    Audited("deals", "deal",
            ("title", "achievement_id", "demand_id", "transferor_id", "transferee_id", "broker_id", "stage", "mode",
             "agreed_amount_fen", "reward_rate_bp", "inventor_share_bp", "agent_organisation_id", "notice_days",
             "terms_version", "intermediary_exception", "notice_starts_on", "notice_ends_on", "signed_on",
             "registration_number", "registered_on", "termination_reason", "completed_at", "paid_fen", "fee_rate_bp",
             "fee_fixed_fen", "fee_payer", "fee_paid_fen", "fee_paid_on", "fee_paid_by_id"),
            {"stage": ("stage", "notice_starts_on", "notice_ends_on", "signed_on", "registration_number",
                       "registered_on", "termination_reason", "completed_at"),
             "terms": ("mode", "agreed_amount_fen", "reward_rate_bp", "inventor_share_bp", "agent_organisation_id",
                       "notice_days", "terms_version", "intermediary_exception", "fee_rate_bp", "fee_fixed_fen",
                       "fee_payer"),
             "broker": ("broker_id",), "paid": ("paid_fen",), "fee_paid": ("fee_paid_fen", "fee_paid_on", "fee_paid_by_id")}),
    Audited("deal_signings", "deal_signing",
            ("deal_id", "signed_on", "agreed_amount_fen", "recorded_by_id", "recorded_as", "status", "decided_by_id",
             "decided_at", "dispute_reason", "decision_note"),
            {"confirmation": ("status", "decided_by_id", "decided_at", "dispute_reason", "decision_note")}),
    Audited("deal_registrations", "deal_registration",
            ("deal_id", "registration_number", "registered_on", "certificate_original_name", "recorded_by_id",
             "recorded_as", "status", "decided_by_id", "decided_at", "refusal_reason"),
            {"verification": ("status", "decided_by_id", "decided_at", "refusal_reason")}),
    Audited("introductions", "introduction",
            ("broker_id", "achievement_id", "demand_id", "transferor_id", "transferee_id", "status",
             "transferor_accepted_by_id", "transferee_accepted_by_id", "declined_side", "decline_reason",
             "decided_by_id", "deal_id"),
            {"status": ("status", "declined_side", "decline_reason", "decided_by_id", "deal_id"),
             "consent": ("transferor_accepted_by_id", "transferee_accepted_by_id")}),
    Audited("confidential_grants", "confidential_grant",
            ("listing_kind", "listing_id", "organisation_id", "user_id", "source", "deal_id", "granted_by_id",
             "revoked_by_id", "revoked_at"),
            {"revocation": ("revoked_by_id", "revoked_at")}),
    Audited("confidentiality_acknowledgements", "confidentiality_acknowledgement",
            ("grant_id", "user_id", "statement_version")),
    Audited("deal_intermediaries", "deal_intermediary", ("deal_id", "user_id", "share_bp", "position")),
    Audited("deal_terms_consents", "deal_terms_consent", ("deal_id", "terms_version", "user_id", "role")),
    Audited("deal_broker_requests", "deal_broker_request",
            ("deal_id", "broker_id", "initiated_by_id", "kind", "status", "transferor_accepted_by_id",
             "transferee_accepted_by_id", "broker_accepted_at", "decided_by_id", "reason"),
            {"status": ("status", "decided_by_id", "reason"),
             "consent": ("transferor_accepted_by_id", "transferee_accepted_by_id", "broker_accepted_at")}),
    # organisations: approval, verification, residency
    Audited("organisations", "organisation",
            ("name", "kind", "status", "verification_status", "credit_code", "valley_id", "resident_since"),
            {"approval": ("status",), "verification": ("verification_status", "credit_code"),
             "residency": ("valley_id", "resident_since")}),
    Audited("organisation_verifications", "organisation_verification",
            ("organisation_id", "credit_code", "licence_original_name", "submitted_by_id", "status", "decided_by_id",
             "decided_at", "refusal_reason"),
            {"decision": ("status", "decided_by_id", "decided_at", "refusal_reason")}),
    Audited("residencies", "residency",
            ("organisation_id", "valley_id", "since", "until", "note", "evidence_original_name", "recorded_by_id",
             "ended_by_id", "ended_at"),
            {"end": ("until", "ended_by_id", "ended_at")}),
    # listings under review
    Audited("achievements", "achievement", _LISTING, _REVIEW),
    Audited("demands", "demand", _LISTING, _REVIEW),
    # accounts: roles, status, approval and credentials (never their secrets)
    Audited("users", "user",
            ("email", "name", "role", "organisation_id", "membership_status", "is_active_account"),
            {"role": ("role",), "membership": ("membership_status", "organisation_id"),
             "status": ("is_active_account",), "email": ("email",)}),
    Audited("api_tokens", "api_token", ("user_id", "name", "prefix", "revoked_at")),
    Audited("second_factors", "second_factor", ("user_id", "confirmed_at")),
    Audited("second_factor_resets", "second_factor_reset", ("user_id", "admin_id")),
)
"""Every audited table and field; the exclusions above apply to these declarations too."""

AUDITED_BY_TABLE: Mapping[str, Audited] = MappingProxyType({audited.table: audited for audited in AUDITED})
OBJECT_TYPES: tuple[str, ...] = tuple(audited.object_type for audited in AUDITED) + (LOGIN_OBJECT,)
ACTIONS: tuple[str, ...] = tuple(action for audited in AUDITED for action in audited.actions()) + (
    FAILED_LOGIN, FAILED_LOGIN_CODE)
