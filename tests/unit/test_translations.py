"""The English catalogue translates every interface string, keeps its placeholders and stays in step with the code."""
import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "market" / "translations"
TEMPLATE_PATH = TRANSLATIONS / "messages.pot"
ENGLISH_PATH = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None}

UPDATE_INSTRUCTIONS = (
    "Update the catalogues from the project root and translate the new entries in "
    "market/translations/en/LC_MESSAGES/messages.po:\n"
    "  .venv/bin/pybabel extract -F market/translations/babel.cfg -k _l --ignore-dirs='.*' --no-location "
    "-o market/translations/messages.pot .\n"
    "  .venv/bin/pybabel update -i market/translations/messages.pot -d market/translations -l en "
    "--no-fuzzy-matching"
)

# %% first, so that "100%%" is one literal percent sign and not the start of a conversion.
PLACEHOLDER = re.compile(r"%%|%\((?P<name>\w+)\)[#0+-]*\d*(?:\.\d+)?[sdirf]|%[#0+-]*\d*(?:\.\d+)?[sdirf]")
CHINESE_PUNCTUATION = set("。，：；（）！？")
MARKUP_CHARACTERS = set('"<>&')


def placeholders(text: str) -> tuple[frozenset[str], int, int]:
    """The named placeholders of a message, how many positional ones (%s, %d …) and how many literal %%."""
    found = list(PLACEHOLDER.finditer(text))
    names = frozenset(match["name"] for match in found if match["name"])
    positional = sum(1 for match in found if not match["name"] and match.group() != "%%")
    escaped = sum(1 for match in found if match.group() == "%%")
    return names, positional, escaped


@cache
def catalogue(path: Path):
    """A .po or .pot file, read once per test run."""
    with path.open("rb") as handle:
        return read_po(handle)


def messages(path: Path) -> dict[str, object]:
    """The non-header entries of a catalogue by message id."""
    return {message.id: message for message in catalogue(path) if message.id}


def show(ids) -> str:
    """A short list of message ids for an assertion message."""
    ids = sorted(ids)
    return "\n".join(f"  {mid!r}" for mid in ids[:20]) + (f"\n  … and {len(ids) - 20} more" if len(ids) > 20 else "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("请填写金额。", (frozenset(), 0, 0)),
        ("权利人份额合计应为 100%。", (frozenset(), 0, 0)),
        ("不能超过 %(max)d 个字符。", (frozenset({"max"}), 0, 0)),
        ("各人分成比例合计须为 100%%（当前 %(p)s%%）。", (frozenset({"p"}), 0, 2)),
        ("%(a)s 至 %(b)s（%(n)s 天）", (frozenset({"a", "b", "n"}), 0, 0)),
        ("第 %s 行，共 %d 行", (frozenset(), 2, 0)),
        ("The shares must add up to 100% of the amount.", (frozenset(), 0, 0)),
    ],
)
def test_placeholders_are_counted_by_name_position_and_literal_percent(text, expected):
    assert placeholders(text) == expected


def test_every_message_in_the_template_has_an_english_translation():
    english = messages(ENGLISH_PATH)
    untranslated = [mid for mid in messages(TEMPLATE_PATH)
                    if mid not in english or not str(english[mid].string).strip()]
    assert not untranslated, f"messages without English:\n{show(untranslated)}\n{UPDATE_INSTRUCTIONS}"


def test_no_english_translation_is_marked_fuzzy():
    fuzzy = [mid for mid, message in messages(ENGLISH_PATH).items() if message.fuzzy]
    assert not fuzzy, f"fuzzy entries (check the English, then remove the fuzzy flag):\n{show(fuzzy)}"


def test_every_translation_keeps_the_placeholders_of_its_message():
    mismatched = [
        f"{mid!r} → {message.string!r}"
        for mid, message in messages(ENGLISH_PATH).items()
        if message.string and placeholders(mid) != placeholders(message.string)
    ]
    assert not mismatched, "placeholders differ between message and translation:\n" + "\n".join(mismatched)


def test_translations_use_english_punctuation():
    chinese = [f"{mid!r} → {message.string!r}" for mid, message in messages(ENGLISH_PATH).items()
               if CHINESE_PUNCTUATION & set(message.string)]
    assert not chinese, "full-width punctuation in English translations:\n" + "\n".join(chinese)


def test_translations_add_no_markup_characters():
    # Templates mark translated text safe, so a quote or angle bracket would break the HTML attribute it sits in.
    added = [f"{mid!r} → {message.string!r}" for mid, message in messages(ENGLISH_PATH).items()
             if (MARKUP_CHARACTERS & set(message.string)) - set(mid)]
    assert not added, "translations introduce \" < > or &; use “ ” instead:\n" + "\n".join(added)


def test_template_contains_every_message_in_the_code():
    with (TRANSLATIONS / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    extracted = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS,
            # Like `--ignore-dirs='.*'`: skip .venv and .git but read templates/_partials and templates/_macros.
            directory_filter=lambda path: not Path(path).name.startswith("."),
        )
    }
    assert extracted, "the extractor found no messages; is babel.cfg still pointing at market/ and templates/?"
    missing = extracted - set(messages(TEMPLATE_PATH))
    assert not missing, f"messages in the code but not in messages.pot:\n{show(missing)}\n{UPDATE_INSTRUCTIONS}"
