"""Organisations (with their verification and valley residency history), users, their sessions, second factors, API
tokens, password resets, e-mail changes and outgoing mail."""
from datetime import date, datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.accounts.secret_box import seal, unseal
from market.extensions import db
from market.timeutil import utcnow

EMAIL_MAX_LENGTH = 254
PERSON_NAME_MAX_LENGTH = 60
PHONE_MAX_LENGTH = 30
ORGANISATION_NAME_MAX_LENGTH = 120
REGION_MAX_LENGTH = 40
API_TOKEN_NAME_MAX_LENGTH = 60
CREDIT_CODE_LENGTH = 18
"""A 统一社会信用代码 (GB 32100-2015) has 18 characters, the last one a check character."""
VERIFICATION_REASON_MAX_LENGTH = 500
RESIDENCY_NOTE_MAX_LENGTH = 500
STORED_FILE_NAME_MAX_LENGTH = 80
ORIGINAL_FILE_NAME_MAX_LENGTH = 255


class OrganisationKind(StrEnum):
    """What an organisation is."""

    UNIVERSITY = "university"
    INSTITUTE = "institute"
    ENTERPRISE = "enterprise"
    AGENCY = "agency"
    INVESTOR = "investor"


class OrganisationSize(StrEnum):
    """Headcount class of an organisation."""

    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


class ApprovalStatus(StrEnum):
    """Admin approval of an organisation or a membership."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class VerificationStatus(StrEnum):
    """Where an organisation's verification stands: unverified → submitted → verified | refused (then resubmitted)."""

    UNVERIFIED = "unverified"
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    REFUSED = "refused"


class Role(StrEnum):
    """What a user does on the platform."""

    RESEARCHER = "researcher"
    ENTERPRISE = "enterprise"
    BROKER = "broker"
    ADMIN = "admin"


ROLE_ORGANISATION_KINDS = {
    Role.RESEARCHER: {OrganisationKind.UNIVERSITY, OrganisationKind.INSTITUTE},
    Role.ENTERPRISE: {OrganisationKind.ENTERPRISE},
    Role.BROKER: {OrganisationKind.AGENCY, OrganisationKind.INVESTOR},
}


class Organisation(db.Model):
    """A university, institute, enterprise, transfer agency or investor."""

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint("resident_since IS NULL OR valley_id IS NOT NULL", name="residency_needs_valley"),
        CheckConstraint("verification_status IN ('unverified', 'submitted', 'verified', 'refused')",
                        name="verification_status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(ORGANISATION_NAME_MAX_LENGTH), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(REGION_MAX_LENGTH), default="")
    size: Mapped[OrganisationSize | None] = mapped_column(String(20))
    valley_id: Mapped[str | None] = mapped_column(ForeignKey("valleys.id"))
    resident_since: Mapped[date | None]
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[ApprovalStatus] = mapped_column(String(20), default=ApprovalStatus.PENDING)
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    verification_status: Mapped[VerificationStatus] = mapped_column(String(20), default=VerificationStatus.UNVERIFIED,
                                                                    server_default=VerificationStatus.UNVERIFIED.value)
    credit_code: Mapped[str | None] = mapped_column(String(CREDIT_CODE_LENGTH), unique=True)
    """The 统一社会信用代码 an admin verified (None until then); one organisation per code."""

    valley = relationship("Valley")
    members: Mapped[list["User"]] = relationship(back_populates="organisation")
    residencies: Mapped[list["Residency"]] = relationship(back_populates="organisation", order_by="Residency.id")

    @property
    def is_verified(self) -> bool:
        """Whether an admin verified the organisation's credit code and business licence."""
        return self.verification_status == VerificationStatus.VERIFIED

    def is_resident_on(self, day: date) -> bool:
        """Whether any recorded residency of the organisation covers the given day."""
        return any(residency.covers(day) for residency in self.residencies)


class OrganisationVerification(db.Model):
    """One submission of an organisation's credit code and business licence PDF, and an admin's decision on it."""

    __tablename__ = "organisation_verifications"
    __table_args__ = (
        CheckConstraint("status IN ('submitted', 'verified', 'refused')", name="status_known"),
        CheckConstraint("status <> 'refused' OR refusal_reason <> ''", name="refusal_has_reason"),
        CheckConstraint("licence_size_bytes > 0", name="licence_size_positive"),
        Index("ix_organisation_verifications_status", "status", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    credit_code: Mapped[str] = mapped_column(String(CREDIT_CODE_LENGTH))
    licence_stored_name: Mapped[str] = mapped_column(String(STORED_FILE_NAME_MAX_LENGTH), unique=True)
    licence_original_name: Mapped[str] = mapped_column(String(ORIGINAL_FILE_NAME_MAX_LENGTH))
    licence_size_bytes: Mapped[int]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[VerificationStatus] = mapped_column(String(20), default=VerificationStatus.SUBMITTED)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    refusal_reason: Mapped[str] = mapped_column(Text, default="")

    organisation: Mapped[Organisation] = relationship()
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])


class Residency(db.Model):
    """A period of an organisation's residency in a valley, recorded by an admin; a change appends a new row, and the
    open row is closed once (its `until` filled in), never rewritten."""

    __tablename__ = "residencies"
    __table_args__ = (
        CheckConstraint("until IS NULL OR until >= since", name="until_not_before_since"),
        CheckConstraint("(evidence_stored_name IS NULL) = (evidence_size_bytes IS NULL)", name="evidence_complete"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    valley_id: Mapped[str] = mapped_column(ForeignKey("valleys.id"))
    since: Mapped[date]
    until: Mapped[date | None]
    """The last day of residency (inclusive); None while the residency lasts."""
    note: Mapped[str] = mapped_column(Text, default="")
    evidence_stored_name: Mapped[str | None] = mapped_column(String(STORED_FILE_NAME_MAX_LENGTH), unique=True)
    """The 入驻 agreement PDF (optional), stored under a generated name."""
    evidence_original_name: Mapped[str] = mapped_column(String(ORIGINAL_FILE_NAME_MAX_LENGTH), default="")
    evidence_size_bytes: Mapped[int | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ended_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship(back_populates="residencies")
    valley = relationship("Valley")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
    ended_by = relationship("User", foreign_keys=[ended_by_id])

    def covers(self, day: date) -> bool:
        """Whether the organisation was resident on the given day under this row."""
        return self.since <= day and (self.until is None or day <= self.until)


class User(UserMixin, db.Model):
    """A person with an account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(PERSON_NAME_MAX_LENGTH))
    phone: Mapped[str] = mapped_column(String(PHONE_MAX_LENGTH), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    membership_status: Mapped[ApprovalStatus] = mapped_column(String(20), default=ApprovalStatus.PENDING)
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    is_active_account: Mapped[bool] = mapped_column(default=True)
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    organisation: Mapped[Organisation | None] = relationship(back_populates="members")
    second_factor: Mapped["SecondFactor | None"] = relationship(back_populates="user", uselist=False)

    @property
    def is_active(self) -> bool:
        """Flask-Login: disabled accounts cannot log in."""
        return self.is_active_account

    @property
    def is_admin(self) -> bool:
        """Whether the user is a platform operator."""
        return self.role == Role.ADMIN

    @property
    def is_approved_member(self) -> bool:
        """Whether the user acts for an approved organisation (admins always may)."""
        if self.is_admin:
            return True
        return (
            self.organisation is not None
            and self.membership_status == ApprovalStatus.APPROVED
            and self.organisation.status == ApprovalStatus.APPROVED
        )

    @property
    def has_second_factor(self) -> bool:
        """Whether the user confirmed an authenticator app (TOTP)."""
        return self.second_factor is not None and self.second_factor.confirmed_at is not None


class UserSession(db.Model):
    """A server-side login session; the cookie holds only its random token."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    authenticated_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    """When the password (and second factor) were last checked in this session: login or re-authentication."""

    user: Mapped[User] = relationship()


class SecondFactor(db.Model):
    """A user's authenticator app (TOTP, RFC 6238); it counts once a code from it has been confirmed."""

    __tablename__ = "second_factors"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    encrypted_secret: Mapped[str] = mapped_column(String(255))
    """The base32 secret shared with the app, encrypted (`secret_box`); read and set it through `secret`."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    last_used_step: Mapped[int] = mapped_column(default=0)
    """The 30-second step of the last accepted code: a code is accepted once."""

    user: Mapped[User] = relationship(back_populates="second_factor")

    @property
    def secret(self) -> str | None:
        """The plain secret (None when the configured keys cannot decrypt it)."""
        return unseal(self.encrypted_secret)

    @secret.setter
    def secret(self, value: str) -> None:
        self.encrypted_secret = seal(value)


class RecoveryCode(db.Model):
    """A single-use recovery code for a lost authenticator; only its hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class SecondFactorReset(db.Model):
    """The record of an admin removing another user's lost second factor."""

    __tablename__ = "second_factor_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(db.Model):
    """A personal bearer token for the JSON API; only its hash is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(API_TOKEN_NAME_MAX_LENGTH))
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class PasswordResetToken(db.Model):
    """A one-time password reset token sent by e-mail; only its hash is kept."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class EmailChangeLink(db.Model):
    """A one-time link mailed to a new address to confirm it as the user's login e-mail; only its hash is kept."""

    __tablename__ = "email_change_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    new_email: Mapped[str] = mapped_column(String(EMAIL_MAX_LENGTH))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class OutboxMail(db.Model):
    """An e-mail waiting in (or sent from) the outbox."""

    __tablename__ = "outbox_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(EMAIL_MAX_LENGTH))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
