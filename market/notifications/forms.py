"""The notification mail settings form (shape only; the rules are in services)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField

from market.notifications.categories import CATEGORY_LABELS, MailCategory


class MailSettingsForm(FlaskForm):
    """One box per optional category, and the acknowledgement for turning off the action mails."""

    action = BooleanField(CATEGORY_LABELS[MailCategory.ACTION])
    money = BooleanField(CATEGORY_LABELS[MailCategory.MONEY])
    deal_news = BooleanField(CATEGORY_LABELS[MailCategory.DEAL_NEWS])
    saved_searches = BooleanField(CATEGORY_LABELS[MailCategory.SAVED_SEARCHES])
    action_off_understood = BooleanField(_l("我了解：关闭后，需要我确认或答复的事项只在站内通知中提示，不再发邮件。"))

    def chosen(self) -> list[str]:
        """The categories ticked."""
        return [category.value for category in MailCategory if getattr(self, category.value, None) is not None
                and getattr(self, category.value).data]
