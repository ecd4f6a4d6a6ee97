"""The 统一社会信用代码 check (GB 32100-2015): known codes pass, corrupted ones are named for what is wrong."""
import pytest

from market.organisations.credit_code import CreditCodeProblem, credit_code_problem, normalise_credit_code

KNOWN_VALID = [
    "91110000600037341L",
    "914403001922038216",
    "91440300708461136T",
    "91330100716105852F",
    "12100000400000624D",
    "91110000710926094P",
    "91140000110114391W",
]
"""Codes printed on public business licences and registration certificates."""

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def check_character(first_17: str) -> str:
    """The check character computed by hand from the standard: weights 3^i mod 31, then 31 - sum mod 31."""
    total = sum(ALPHABET.index(ch) * pow(3, i, 31) for i, ch in enumerate(first_17))
    return ALPHABET[(31 - total % 31) % 31]


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_known_codes_are_valid(code):
    assert credit_code_problem(code) is None
    assert check_character(code[:17]) == code[17]


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_every_other_check_character_is_refused(code):
    for wrong in (ch for ch in ALPHABET if ch != code[17]):
        assert credit_code_problem(code[:17] + wrong) == CreditCodeProblem.CHECK_CHARACTER


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_a_changed_body_character_is_caught_by_the_check_character(code):
    for position in range(8, 17):
        replacement = "1" if code[position] != "1" else "2"
        corrupted = code[:position] + replacement + code[position + 1:]
        assert credit_code_problem(corrupted) == CreditCodeProblem.CHECK_CHARACTER, corrupted


def test_swapping_two_neighbouring_characters_is_caught():
    code = "91110000600037341L"
    swapped = code[:8] + code[9] + code[8] + code[10:]
    assert swapped != code
    assert credit_code_problem(swapped) == CreditCodeProblem.CHECK_CHARACTER


@pytest.mark.parametrize(("code", "problem"), [
    ("9111000060003734", CreditCodeProblem.LENGTH),
    ("91110000600037341LL", CreditCodeProblem.LENGTH),
    ("", CreditCodeProblem.LENGTH),
    ("9111000060003734IL", CreditCodeProblem.FORMAT),  # I is not in the alphabet
    ("9111000060003734OL", CreditCodeProblem.FORMAT),  # nor O
    ("A1110000600037341L", CreditCodeProblem.FORMAT),
    ("91110000600037341中", CreditCodeProblem.FORMAT),
])
def test_malformed_codes_name_their_problem(code, problem):
    assert credit_code_problem(code) == problem


@pytest.mark.parametrize(("typed", "code"), [
    (" 9111 0000-600037341l ", "91110000600037341L"),
    ("９１１１００００６０００３７３４１Ｌ", "91110000600037341L"),
])
def test_what_people_type_is_normalised(typed, code):
    assert normalise_credit_code(typed) == code
