"""Membership and listing permission predicates, and the role decorators of views."""
from functools import wraps

from flask import abort
from flask_login import current_user

from market.accounts.models import Role, User


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
    """Published and sold (已成交) listings are public; others only for their organisation and admins."""
    return listing.is_public or listing.is_sold or can_manage_listing(user, listing)


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
