"""The deal services by concern, under one name for the pages, the API and the demo data.

Bids, responses, the pipeline, intermediaries and the board live in their own modules; this module only gathers
their public names so that callers keep one import."""
from market.deals.bids import (  # noqa: F401
    accept_bid,
    bid_side,
    counter_bid,
    decline_bid,
    get_bid,
    place_bid,
    withdraw_bid,
)
from market.deals.board import (  # noqa: F401
    BOARD_COLUMN_LIMIT,
    BoardColumn,
    BoardFilters,
    ListingPanel,
    MyDeals,
    board,
    deal_awards,
    deal_events,
    deal_payments,
    listing_panel,
    my_deals,
)
from market.deals.intermediaries import (  # noqa: F401
    agency_organisations,
    assign_broker,
    broker_users,
    claim_deal,
    record_intermediary_exception,
    set_intermediaries,
)
from market.deals.labels import (  # noqa: F401
    AWARD_STATUS_LABELS,
    BID_STATUS_LABELS,
    CAP_LABELS,
    EVENT_LABELS,
    RESPONSE_STATUS_LABELS,
    STAGE_LABELS,
)
from market.deals.limits import (  # noqa: F401
    BEFORE_REGISTRATION,
    BOARD_STAGES,
    DEFAULT_NOTICE_DAYS,
    EARLIEST_DATE,
    EDITABLE_TERMS_STAGES,
    MAX_INTERMEDIARIES_PER_ACHIEVEMENT,
    MAX_INTERMEDIARY_ROWS,
    MAX_MESSAGE_CHARS,
    MAX_NOTICE_DAYS,
    MAX_PROPOSAL_CHARS,
    MAX_REASON_CHARS,
    REGISTRATION_NUMBER,
)
from market.deals.permissions import (  # noqa: F401
    EDITORS,
    MOVERS,
    DealPermissions,
    can_view_deal,
    deal_roles,
    may_move,
    next_stage,
    permissions,
)
from market.deals.pipeline import (  # noqa: F401
    advance_deal,
    clean_registration_number,
    complete_deal,
    get_deal,
    get_public_notice,
    list_public_notices,
    notice_is_public,
    record_payment,
    register_deal,
    sign_deal,
    start_notice,
    terminate_deal,
    update_terms,
)
from market.deals.recording import (  # noqa: F401
    bid_link,
    clean_amount,
    deal_link,
    involved_user_ids,
    member_ids,
    notify_all,
    raise_if_errors,
    record_step,
    require_approved,
    today,
)
from market.deals.responses import (  # noqa: F401
    accept_response,
    decline_response,
    get_response,
    respond_to_demand,
    respondable_achievements,
    response_link,
    response_side,
    withdraw_response,
)
