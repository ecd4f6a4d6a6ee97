"""Declared input of the notification mail settings."""
from pydantic import Field

from market.declared import DeclaredInput, choices
from market.notifications.categories import MailCategory


class MailSettingsInput(DeclaredInput):
    """The mail categories the user keeps; the acknowledgement needed to stop the mails of things awaiting action."""

    categories: choices(MailCategory, description="The categories of notification mail to receive; the others are "
                                                  "turned off (account mail is always sent).")
    action_off_understood: bool | None = Field(None, description="Acknowledges that things awaiting the user's action will "
                                                           "then be shown in-app only.")
