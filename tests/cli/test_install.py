"""`pip install .` (the README's production step) ships the compiled English catalogue and leaves the checkout clean."""
import gettext
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = Path("market", "translations", "en", "LC_MESSAGES", "messages.mo")


def _run(*command: str, cwd: Path) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _checkout_copy(target: Path) -> Path:
    """The project's files (tracked and new, not ignored ones) in a fresh git repository, as a clone would have them."""
    listed = _run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    git = ("git", "-c", "user.name=test", "-c", "user.email=test@example.org")
    _run(*git, "init", "-q", cwd=target)
    _run(*git, "add", "-A", cwd=target)
    _run(*git, "commit", "-q", "-m", "copy", cwd=target)
    return target


@pytest.mark.skipif(bool(POSTGRES_URL), reason="uses no database: runs once, in the SQLite pass")
def test_installing_the_package_compiles_the_translations_and_leaves_the_checkout_clean(tmp_path):
    checkout = _checkout_copy(tmp_path / "checkout")
    installed = tmp_path / "installed"
    assert not (checkout / CATALOGUE).exists()
    _run(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(installed), str(checkout),
         cwd=tmp_path)

    with (installed / CATALOGUE).open("rb") as mo_file:
        english = gettext.GNUTranslations(mo_file)
    assert english.gettext("请求无法处理，请检查后重试。") == "The request could not be processed. Please check it and try again."
    assert not (installed / "market" / "translations" / "build_step.py").exists()
    assert (installed / "market" / "migrations" / "env.py").exists()

    assert _run("git", "status", "--porcelain", cwd=checkout) == ""
    assert not (checkout / "build").exists() and not list(checkout.glob("*.egg-info"))
    # The README runs the app from the checkout, whose `market` Python imports first: its catalogue is compiled too.
    assert (checkout / CATALOGUE).is_file()
