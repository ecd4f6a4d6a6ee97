"""Valley, city and field names in the user's language (the English name when the page is in English and the name
exists as data, the Chinese name otherwise)."""
from flask_babel import get_locale

from market.taxonomy.models import Field, Valley


def in_english() -> bool:
    """True when the current request is shown in English."""
    locale = get_locale()
    return locale is not None and locale.language == "en"


def valley_name(valley: Valley | None) -> str:
    """A valley's name in the user's language."""
    if valley is None:
        return ""
    return valley.name_en if in_english() and valley.name_en else valley.name


def city_name(valley: Valley | None) -> str:
    """The city of a valley in the user's language."""
    if valley is None:
        return ""
    return valley.city_en if in_english() and valley.city_en else valley.city


def field_name(field: Field | None) -> str:
    """A field's name in the user's language."""
    if field is None:
        return ""
    return field.name_en if in_english() and field.name_en else field.name
