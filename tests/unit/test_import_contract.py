"""The pure engines import without the web stack; the factory is still reachable as `market.create_app`."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_engines_import_without_flask_or_sqlalchemy():
    result = _run(
        "import sys, market.policy.engine, market.matching.engine\n"
        "loaded = sorted({'flask', 'sqlalchemy', 'flask_sqlalchemy', 'werkzeug'} & set(sys.modules))\n"
        "assert not loaded, loaded"
    )
    assert result.returncode == 0, result.stderr


def test_text_analysis_imports_without_flask_or_sqlalchemy():
    result = _run(
        "import sys, market.text, market.listings.search, market.listings.ranking, market.listings.spelling\n"
        "loaded = sorted({'flask', 'sqlalchemy', 'flask_sqlalchemy', 'werkzeug'} & set(sys.modules))\n"
        "assert not loaded, loaded"
    )
    assert result.returncode == 0, result.stderr


def test_create_app_is_importable_from_the_package_and_builds_an_app():
    result = _run(
        "import sys\n"
        "from market import create_app\n"
        "assert 'flask' not in sys.modules\n"
        "app = create_app({'SECRET_KEY': 'x', 'SQLALCHEMY_DATABASE_URI': 'sqlite://'})\n"
        "assert app.name == 'market' and 'accounts.login' in app.view_functions"
    )
    assert result.returncode == 0, result.stderr
