"""Bids with counter-offers, responses to demands, and the deal pipeline (成果转化项目)."""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.accounts.models import ORIGINAL_FILE_NAME_MAX_LENGTH, STORED_FILE_NAME_MAX_LENGTH
from market.confirmations.models import Confirmable, Evidenced
from market.errors import InvalidStateError
from market.extensions import db
from market.listings.vocabulary import TransferMode
from market.timeutil import utcnow

MONEY_RANGE = "BETWEEN 0 AND 1000000000000000"


class BidStatus(StrEnum):
    """Where a bid stands."""

    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class DeclineReason(StrEnum):
    """Why a bid, a response or an introduction was declined (shown to the other side with an optional note)."""

    NOT_A_FIT = "not_a_fit"
    PRICE = "price"
    TIMING = "timing"
    OTHER_PARTNER = "other_partner"
    NO_CAPACITY = "no_capacity"
    OTHER = "other"


class BidSide(StrEnum):
    """Who wrote a round of a bid."""

    BUYER = "buyer"
    OWNER = "owner"


class Bid(db.Model):
    """An enterprise's offer (意向/报价) on an achievement; each round is a BidVersion."""

    __tablename__ = "bids"

    id: Mapped[int] = mapped_column(primary_key=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"), index=True)
    bidder_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    bidder_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[BidStatus] = mapped_column(String(20), default=BidStatus.OPEN)
    decline_reason: Mapped[DeclineReason | None] = mapped_column(String(20))
    decline_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    achievement = relationship("Achievement")
    bidder_organisation = relationship("Organisation")
    bidder = relationship("User")
    versions: Mapped[list["BidVersion"]] = relationship(order_by="BidVersion.number", back_populates="bid")

    @property
    def latest(self) -> "BidVersion":
        """The current round."""
        return self.versions[-1]


class BidVersion(db.Model):
    """One round of a bid: the first offer or a counter-offer."""

    __tablename__ = "bid_versions"
    __table_args__ = (
        UniqueConstraint("bid_id", "number", name="one_number_per_bid"),
        CheckConstraint(f"amount_fen {MONEY_RANGE}", name="amount_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"), index=True)
    number: Mapped[int]
    side: Mapped[BidSide] = mapped_column(String(10))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    amount_fen: Mapped[int] = mapped_column(db.BigInteger)
    mode: Mapped[TransferMode] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    bid: Mapped[Bid] = relationship(back_populates="versions")
    author = relationship("User")


class ResponseStatus(StrEnum):
    """Where a response to a demand stands."""

    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class DemandResponse(db.Model):
    """A researcher's proposal (响应/揭榜) to a demand, optionally naming one of their achievements."""

    __tablename__ = "demand_responses"
    __table_args__ = (CheckConstraint(f"amount_fen IS NULL OR amount_fen {MONEY_RANGE}", name="amount_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id"), index=True)
    responder_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    responder_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    achievement_id: Mapped[int | None] = mapped_column(ForeignKey("achievements.id"))
    proposal: Mapped[str] = mapped_column(Text)
    amount_fen: Mapped[int | None] = mapped_column(db.BigInteger)
    status: Mapped[ResponseStatus] = mapped_column(String(20), default=ResponseStatus.OPEN)
    decline_reason: Mapped[DeclineReason | None] = mapped_column(String(20))
    decline_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    demand = relationship("Demand")
    responder_organisation = relationship("Organisation")
    responder = relationship("User")
    achievement = relationship("Achievement")


class DealStage(StrEnum):
    """意向 → 洽谈 → 协议定价 → 公示 → 签约 → 技术合同登记 → 履约/回款 → 完成, or 终止."""

    INTENT = "intent"
    NEGOTIATION = "negotiation"
    PRICING = "pricing"
    NOTICE = "notice"
    SIGNED = "signed"
    REGISTERED = "registered"
    PERFORMANCE = "performance"
    COMPLETED = "completed"
    TERMINATED = "terminated"


PIPELINE = [DealStage.INTENT, DealStage.NEGOTIATION, DealStage.PRICING, DealStage.NOTICE, DealStage.SIGNED,
            DealStage.REGISTERED, DealStage.PERFORMANCE, DealStage.COMPLETED]


class FeePayer(StrEnum):
    """The party that pays the agency's service fee (佣金)."""

    TRANSFEROR = "transferor"
    TRANSFEREE = "transferee"


class Deal(db.Model):
    """A conversion project between a transferor (the achievement's owner) and a transferee."""

    __tablename__ = "deals"
    __table_args__ = (
        CheckConstraint(f"agreed_amount_fen IS NULL OR agreed_amount_fen {MONEY_RANGE}", name="agreed_range"),
        CheckConstraint("reward_rate_bp BETWEEN 0 AND 10000", name="reward_rate_range"),
        CheckConstraint("inventor_share_bp IS NULL OR inventor_share_bp BETWEEN 0 AND 10000",
                        name="inventor_share_range"),
        CheckConstraint(f"paid_fen {MONEY_RANGE}", name="paid_range"),
        CheckConstraint("agreed_amount_fen IS NULL OR paid_fen <= agreed_amount_fen", name="paid_within_value"),
        CheckConstraint("terms_version >= 1", name="terms_version_positive"),
        CheckConstraint("fee_rate_bp IS NULL OR fee_rate_bp BETWEEN 1 AND 10000", name="fee_rate_range"),
        CheckConstraint(f"fee_fixed_fen IS NULL OR (fee_fixed_fen > 0 AND fee_fixed_fen {MONEY_RANGE})",
                        name="fee_fixed_range"),
        CheckConstraint("fee_rate_bp IS NULL OR fee_fixed_fen IS NULL", name="fee_one_kind"),
        CheckConstraint("fee_payer IS NULL OR fee_payer IN ('transferor', 'transferee')", name="fee_payer_known"),
        CheckConstraint("(fee_rate_bp IS NULL AND fee_fixed_fen IS NULL) = (fee_payer IS NULL)",
                        name="fee_payer_named"),
        CheckConstraint(f"fee_paid_fen IS NULL OR (fee_paid_fen > 0 AND fee_paid_fen {MONEY_RANGE})",
                        name="fee_paid_range"),
        CheckConstraint("(fee_paid_fen IS NULL) = (fee_paid_on IS NULL)", name="fee_paid_dated"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    achievement_id: Mapped[int | None] = mapped_column(ForeignKey("achievements.id"), index=True)
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("demands.id"))
    bid_id: Mapped[int | None] = mapped_column(ForeignKey("bids.id"), unique=True)
    response_id: Mapped[int | None] = mapped_column(ForeignKey("demand_responses.id"), unique=True)
    transferor_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    transferee_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    broker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    agent_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    stage: Mapped[DealStage] = mapped_column(String(20), default=DealStage.INTENT, index=True)
    mode: Mapped[TransferMode | None] = mapped_column(String(30))
    agreed_amount_fen: Mapped[int | None] = mapped_column(db.BigInteger)
    reward_rate_bp: Mapped[int] = mapped_column(default=0)
    inventor_share_bp: Mapped[int | None]
    """The inventors' share of the transferor's net income (universities and institutes; 促进科技成果转化法 Art. 45)."""
    notice_days: Mapped[int] = mapped_column(default=15)
    notice_starts_on: Mapped[date | None]
    notice_ends_on: Mapped[date | None]
    signed_on: Mapped[date | None]
    registration_number: Mapped[str | None] = mapped_column(String(60), unique=True)
    registered_on: Mapped[date | None]
    paid_fen: Mapped[int] = mapped_column(db.BigInteger, default=0)
    terms_version: Mapped[int] = mapped_column(default=1, server_default="1")
    """The number of the current terms; every change of a term adds one and voids the acceptances of earlier ones."""
    fee_rate_bp: Mapped[int | None]
    """The agency's service fee (佣金) agreed with the client as basis points of the contract amount."""
    fee_fixed_fen: Mapped[int | None] = mapped_column(db.BigInteger)
    """The agency's service fee as a fixed amount (one of rate or fixed, or neither)."""
    fee_payer: Mapped[str | None] = mapped_column(String(20))
    """Which party pays the fee: transferor or transferee."""
    fee_paid_fen: Mapped[int | None] = mapped_column(db.BigInteger)
    fee_paid_on: Mapped[date | None]
    fee_paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    intermediary_exception: Mapped[str] = mapped_column(Text, default="")
    termination_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]

    achievement = relationship("Achievement")
    demand = relationship("Demand")
    transferor = relationship("Organisation", foreign_keys=[transferor_id])
    transferee = relationship("Organisation", foreign_keys=[transferee_id])
    broker = relationship("User", foreign_keys=[broker_id])
    fee_paid_by = relationship("User", foreign_keys=[fee_paid_by_id])
    agent_organisation = relationship("Organisation", foreign_keys=[agent_organisation_id])
    intermediaries: Mapped[list["DealIntermediary"]] = relationship(order_by="DealIntermediary.position",
                                                                     cascade="all, delete-orphan")
    broker_requests: Mapped[list["DealBrokerRequest"]] = relationship(order_by="DealBrokerRequest.id",
                                                                      back_populates="deal")
    terms_consents: Mapped[list["DealTermsConsent"]] = relationship(order_by="DealTermsConsent.id",
                                                                    viewonly=True)
    signings: Mapped[list["DealSigning"]] = relationship(order_by="DealSigning.id", viewonly=True)
    registrations: Mapped[list["DealRegistration"]] = relationship(order_by="DealRegistration.id",
                                                                   back_populates="deal", viewonly=True)

    @property
    def current_registration(self) -> "DealRegistration | None":
        """The registration that stands (the latest one not refused), if any."""
        standing = [row for row in self.registrations if row.status != RegistrationStatus.REFUSED]
        return standing[-1] if standing else None

    def advance_to(self, target: DealStage) -> DealStage:
        """Move one step along the pipeline (or terminate from any open stage)."""
        previous = self.stage
        if previous in (DealStage.COMPLETED, DealStage.TERMINATED):
            raise InvalidStateError(f"deal {self.id} is closed")
        if target == DealStage.TERMINATED:
            self.stage = target
            return previous
        if target not in PIPELINE or PIPELINE.index(target) != PIPELINE.index(previous) + 1:
            raise InvalidStateError(f"deal {self.id} cannot move from {previous} to {target}")
        self.stage = target
        return previous

    def withdraw_notice(self) -> DealStage:
        """Take the public notice down: back to pricing, with no notice dates."""
        previous = self.stage
        if previous != DealStage.NOTICE:
            raise InvalidStateError(f"deal {self.id} is not in its notice")
        self.stage = DealStage.PRICING
        self.notice_starts_on = self.notice_ends_on = None
        return previous

    @property
    def is_open(self) -> bool:
        """Neither completed nor terminated."""
        return self.stage not in (DealStage.COMPLETED, DealStage.TERMINATED)


class DealIntermediary(db.Model):
    """A named intermediary (技术经理人) of a deal with an agreed share of the reward."""

    __tablename__ = "deal_intermediaries"
    __table_args__ = (
        UniqueConstraint("deal_id", "user_id", name="one_row_per_person"),
        CheckConstraint("share_bp BETWEEN 1 AND 10000", name="share_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    share_bp: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)

    user = relationship("User")


class TermsRole(StrEnum):
    """The capacity in which someone accepts a deal's terms."""

    TRANSFEROR = "transferor"
    TRANSFEREE = "transferee"
    INTERMEDIARY = "intermediary"


class DealTermsConsent(db.Model):
    """One acceptance of one version of a deal's terms: a member for the transferor or the transferee, or a named
    intermediary for his share."""

    __tablename__ = "deal_terms_consents"
    __table_args__ = (
        UniqueConstraint("deal_id", "terms_version", "role", "user_id", name="one_acceptance_per_person"),
        CheckConstraint("role IN ('transferor', 'transferee', 'intermediary')", name="role_known"),
        CheckConstraint("terms_version >= 1", name="version_positive"),
        Index("one_acceptance_per_party", "deal_id", "terms_version", "role", unique=True,
              sqlite_where=text("role <> 'intermediary'"), postgresql_where=text("role <> 'intermediary'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    terms_version: Mapped[int]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[TermsRole] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    user = relationship("User")


class BrokerRequestKind(StrEnum):
    """Who started a request for a broker to join a deal."""

    INVITE = "invite"
    ASK = "ask"
    ADMIN_PROPOSAL = "admin_proposal"


class BrokerRequestStatus(StrEnum):
    """Where a request for a broker to join a deal stands."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded"
    REMOVED = "removed"


class DealBrokerRequest(db.Model):
    """A party's invitation, a broker's request to join or an admin's proposal: the broker joins the deal once the
    broker and every side that must consent have accepted."""

    __tablename__ = "deal_broker_requests"
    __table_args__ = (
        CheckConstraint("kind IN ('invite', 'ask', 'admin_proposal')", name="kind_known"),
        CheckConstraint("status IN ('pending', 'accepted', 'declined', 'withdrawn', 'superseded', 'removed')",
                        name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    broker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    initiated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[BrokerRequestKind] = mapped_column(String(20))
    status: Mapped[BrokerRequestStatus] = mapped_column(String(20), default=BrokerRequestStatus.PENDING)
    transferor_accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    transferor_accepted_at: Mapped[datetime | None]
    transferee_accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    transferee_accepted_at: Mapped[datetime | None]
    broker_accepted_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    deal: Mapped[Deal] = relationship(back_populates="broker_requests")
    broker = relationship("User", foreign_keys=[broker_id])
    initiated_by = relationship("User", foreign_keys=[initiated_by_id])
    transferor_accepted_by = relationship("User", foreign_keys=[transferor_accepted_by_id])
    transferee_accepted_by = relationship("User", foreign_keys=[transferee_accepted_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    @property
    def is_pending(self) -> bool:
        """Still waiting for someone's answer."""
        return self.status == BrokerRequestStatus.PENDING


class IntroductionStatus(StrEnum):
    """Where a broker's introduction stands."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class Introduction(db.Model):
    """A broker's introduction (引荐) of an achievement to a demand or an enterprise: once a member of the achievement's
    organisation (transferor) and one of the other organisation (transferee) accept, a deal opens with the broker."""

    __tablename__ = "introductions"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'accepted', 'declined', 'withdrawn')", name="status_known"),
        CheckConstraint("declined_side IS NULL OR declined_side IN ('transferor', 'transferee')",
                        name="declined_side_known"),
        CheckConstraint("status <> 'accepted' OR deal_id IS NOT NULL", name="accepted_has_deal"),
        Index("one_pending_introduction_per_pair", "achievement_id", "transferee_id", unique=True,
              sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    broker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"), index=True)
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("demands.id"), index=True)
    transferor_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    transferee_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[IntroductionStatus] = mapped_column(String(20), default=IntroductionStatus.PENDING)
    transferor_accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    transferor_accepted_at: Mapped[datetime | None]
    transferee_accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    transferee_accepted_at: Mapped[datetime | None]
    relicense_confirmed_at: Mapped[datetime | None]
    """When the achievement's owner, accepting, confirmed licensing it again (it had been transferred outright)."""
    declined_side: Mapped[str | None] = mapped_column(String(20))
    decline_reason: Mapped[DeclineReason | None] = mapped_column(String(20))
    decline_note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    broker = relationship("User", foreign_keys=[broker_id])
    achievement = relationship("Achievement")
    demand = relationship("Demand")
    transferor = relationship("Organisation", foreign_keys=[transferor_id])
    transferee = relationship("Organisation", foreign_keys=[transferee_id])
    transferor_accepted_by = relationship("User", foreign_keys=[transferor_accepted_by_id])
    transferee_accepted_by = relationship("User", foreign_keys=[transferee_accepted_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    deal = relationship("Deal")

    @property
    def is_pending(self) -> bool:
        """Still waiting for an answer from either side."""
        return self.status == IntroductionStatus.PENDING


class DealEvent(db.Model):
    """One entry in a deal's timeline."""

    __tablename__ = "deal_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(30))
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    """What a person typed (a reason, a remark, a registration number), shown as typed."""
    note_code: Mapped[str | None] = mapped_column(String(30))
    """What the step says, worded when shown (deals.timeline); its facts are in note_params."""
    note_params: Mapped[dict | None] = mapped_column(db.JSON)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    actor = relationship("User")


class DealPayment(Confirmable, Evidenced, db.Model):
    """Proceeds received under a deal's registered contract, recorded by one side and confirmed by the other."""

    __tablename__ = "deal_payments"
    __table_args__ = (CheckConstraint("amount_fen > 0 AND amount_fen <= 1000000000000000", name="amount_range"),
                      Index("ix_deal_payments_deal", "deal_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"))
    paid_on: Mapped[date]
    amount_fen: Mapped[int] = mapped_column(db.BigInteger)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    policy_event_id: Mapped[int | None] = mapped_column(ForeignKey("policy_events.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    deal = relationship("Deal")


OPEN_SIGNING = "status IN ('recorded', 'disputed')"


class DealSigning(Confirmable, db.Model):
    """A signing (date, amount) recorded by the transferor or the deal's broker after the notice; the deal is signed
    when a member of the transferee confirms it (one row per attempt, at most one open per deal)."""

    __tablename__ = "deal_signings"
    __table_args__ = (
        CheckConstraint(f"agreed_amount_fen > 0 AND agreed_amount_fen {MONEY_RANGE}", name="amount_range"),
        Index("ix_deal_signings_deal", "deal_id"),
        Index("one_open_signing_per_deal", "deal_id", unique=True, sqlite_where=text(OPEN_SIGNING),
              postgresql_where=text(OPEN_SIGNING)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"))
    signed_on: Mapped[date]
    agreed_amount_fen: Mapped[int] = mapped_column(db.BigInteger)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    deal = relationship("Deal")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
    decided_by = relationship("User", foreign_keys="DealSigning.decided_by_id")


class RegistrationStatus(StrEnum):
    """Where a technology-contract registration stands: an admin verifies it against its certificate or refuses it."""

    AWAITING = "awaiting_verification"
    VERIFIED = "verified"
    REFUSED = "refused"


class DealRegistration(db.Model):
    """One recorded technology-contract registration (技术合同登记) of a deal, with its certificate and the admin's
    decision; a refused one stays as history and a corrected one is a new row."""

    __tablename__ = "deal_registrations"
    __table_args__ = (
        CheckConstraint("status IN ('awaiting_verification', 'verified', 'refused')", name="status_known"),
        CheckConstraint("status <> 'refused' OR refusal_reason <> ''", name="refusal_has_reason"),
        Index("ix_deal_registrations_status", "status", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    registration_number: Mapped[str] = mapped_column(String(60))
    registered_on: Mapped[date]
    certificate_stored_name: Mapped[str | None] = mapped_column(String(STORED_FILE_NAME_MAX_LENGTH), unique=True)
    """The registration certificate PDF under a generated name (None only for registrations migrated without one)."""
    certificate_original_name: Mapped[str] = mapped_column(String(ORIGINAL_FILE_NAME_MAX_LENGTH), default="")
    certificate_size_bytes: Mapped[int | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_as: Mapped[str | None] = mapped_column(String(20))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[RegistrationStatus] = mapped_column(String(30), default=RegistrationStatus.AWAITING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    refusal_reason: Mapped[str] = mapped_column(Text, default="")
    last_reminded_at: Mapped[datetime | None]
    """When admins were last reminded that the registration waits for their verification."""

    deal: Mapped[Deal] = relationship(back_populates="registrations")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    @property
    def has_certificate(self) -> bool:
        """Whether the certificate PDF is attached."""
        return self.certificate_stored_name is not None

    @property
    def is_verified(self) -> bool:
        """Whether an admin verified the registration."""
        return self.status == RegistrationStatus.VERIFIED
