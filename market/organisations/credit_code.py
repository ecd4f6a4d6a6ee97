"""The 统一社会信用代码 (unified social credit code, GB 32100-2015): normalising what people type and naming what is
wrong with a code; pure (the check character is computed by python-stdnum's `stdnum.cn.uscc`)."""
import unicodedata
from enum import StrEnum

from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidLength, ValidationError


class CreditCodeProblem(StrEnum):
    """Why a text is not a valid credit code."""

    LENGTH = "length"
    FORMAT = "format"
    CHECK_CHARACTER = "check_character"


def normalise_credit_code(text: str) -> str:
    """Upper case, half-width, without spaces or hyphens: " 9111 0000-600037341l" → "91110000600037341L"."""
    folded = unicodedata.normalize("NFKC", text).upper()
    return "".join(ch for ch in folded if not ch.isspace() and ch != "-")


def credit_code_problem(code: str) -> CreditCodeProblem | None:
    """What is wrong with a normalised code: its length, a character outside GB 32100's alphabet (the first eight are
    the registration authority, the kind of entity and the region, all digits for the codes issued so far), or the
    check character (weights 3^i mod 31 over the first 17 characters); None when the code is valid."""
    try:
        uscc.validate(code)
    except InvalidLength:
        return CreditCodeProblem.LENGTH
    except InvalidChecksum:
        return CreditCodeProblem.CHECK_CHARACTER
    except ValidationError:
        return CreditCodeProblem.FORMAT
    return None
