"""Who reads the audit log: platform operators only."""


def can_read_audit_log(user) -> bool:
    """Whether the user may read and export the audit log."""
    return bool(getattr(user, "is_authenticated", False) and user.is_admin)
