"""Roles, permission predicates and view decorators."""
from functools import wraps

from flask import abort, current_app
from flask_babel import gettext as _
from flask_login import current_user

from market.accounts.models import Role, User
from market.errors import PermissionDeniedError

SECOND_FACTOR_ROLES = frozenset({Role.ADMIN, Role.BROKER})
"""Who may (and, to approve or pay awards, must) use an authenticator app."""


class SecondFactorRequiredError(PermissionDeniedError):
    """The action needs a confirmed second factor the actor has not set up; pages send the user to enrol."""

    code = "second_factor_required"


def is_second_factor_exempt(user: User) -> bool:
    """Demo accounts in demo mode skip the second factor."""
    return user.is_demo and current_app.config["DEMO_MODE"]


def require_second_factor(user: User) -> None:
    """Refuse an award approval or payout by someone without a confirmed second factor (pages and API alike)."""
    if not user.has_second_factor and not is_second_factor_exempt(user):
        raise SecondFactorRequiredError(_("审批和发放奖补需要先启用两步验证（身份验证器），请在个人资料中设置后再操作。"))


def is_member_of(user: User | None, organisation_id: int | None) -> bool:
    """Whether the user acts for that organisation as an approved member."""
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and not user.is_admin
        and user.is_approved_member
        and organisation_id is not None
        and user.organisation_id == organisation_id
    )


def can_manage_listing(user: User | None, listing) -> bool:
    """Members of the owning organisation manage a listing; admins too."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.is_admin or is_member_of(user, listing.organisation_id)


def can_view_listing(user: User | None, listing) -> bool:
    """Published listings are public; others only for their organisation and admins."""
    return listing.is_public or can_manage_listing(user, listing)


def can_see_confidential(user: User | None, listing) -> bool:
    """The confidential part is for the owning organisation and admins."""
    return can_manage_listing(user, listing)


def can_create(user: User | None, role: Role) -> bool:
    """Approved members with the given role may create listings of their kind."""
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.role == role
        and user.is_approved_member
    )


def roles_required(*roles: Role):
    """Allow the view only to logged-in users with one of the roles (403 otherwise; login first for visitors)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from market.extensions import login_manager

                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


admin_required = roles_required(Role.ADMIN)
