"""Imports every model module so that the metadata (and Alembic) sees all tables."""
from market.accounts.models import (  # noqa: F401
    ApiToken,
    Organisation,
    OrganisationVerification,
    OutboxMail,
    PasswordResetToken,
    Residency,
    User,
    UserSession,
)
from market.achievements.models import Achievement, AchievementMode  # noqa: F401
from market.api.models import IdempotencyRecord  # noqa: F401
from market.audit.models import AuditEntry  # noqa: F401
from market.awards.ledger import LedgerEntry, LedgerTransaction  # noqa: F401
from market.awards.models import (  # noqa: F401
    Award,
    PolicyEvent,
    PolicyStateSnapshot,
    StartupGrant,
    StoredRuleSet,
)
from market.deals.models import (  # noqa: F401
    Bid,
    BidVersion,
    Deal,
    DealEvent,
    DealIntermediary,
    DealPayment,
    DemandResponse,
)
from market.demands.models import Demand, DemandMode  # noqa: F401
from market.imports.models import ImportRun  # noqa: F401
from market.listings.models import Attachment, Follow, ListingEvent, SearchTerm  # noqa: F401
from market.matching.models import MatchFeedback, MatchIndexChange, MatchPair  # noqa: F401
from market.notifications.models import Notification  # noqa: F401
from market.preorders.models import PreorderAgreement, PreorderDelivery, PreorderPayment, PreorderProposal  # noqa: F401
from market.saved_searches.models import SavedSearch, SavedSearchNotice  # noqa: F401
from market.taxonomy.models import Field, Valley  # noqa: F401
