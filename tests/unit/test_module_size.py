"""No module of the application grows past the house limit (migrations aside): split by concern before then."""
from pathlib import Path

MARKET = Path(__file__).resolve().parents[2] / "market"
MAX_LINES = 700


def test_no_module_is_over_the_line_limit():
    too_long = {path.relative_to(MARKET).as_posix(): lines for path in MARKET.rglob("*.py")
                if "migrations" not in path.parts
                and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert too_long == {}
