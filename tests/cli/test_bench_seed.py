"""The benchmarks' seeding still builds databases the app serves: `seed(database_url, count)` in bench_web.py, which
../shared/bin/web-compare seeds through, and the import-load benchmark's demo researchers, who log in."""
import importlib.util
from pathlib import Path

from sqlalchemy import create_engine, text

from market import create_app
from market.extensions import db

BENCH_WEB = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_web.py"
COUNT = 210  # a few synthetic listings beyond the demo data's published achievements


def _bench_web():
    spec = importlib.util.spec_from_file_location("bench_web", BENCH_WEB)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seed_fills_a_temporary_sqlite_file_that_the_app_serves(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    ids = _bench_web().seed(url, COUNT)

    engine = create_engine(url)
    with engine.connect() as connection:
        published = connection.execute(text("SELECT id FROM achievements WHERE status = 'published' ORDER BY id")).scalars()
        published = list(published)
        synthetic = connection.execute(text("SELECT id FROM achievements WHERE title LIKE '%融合技术%'")).scalars().all()
        indexed = connection.execute(text("SELECT count(*) FROM search_terms "
                                          "WHERE listing_kind = 'achievement' AND listing_id = :id"),
                                     {"id": synthetic[-1]}).scalar() if synthetic else 0
        head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert sorted(ids) == published and len(ids) == COUNT
    assert 0 < len(synthetic) < COUNT, "the demo data alone reached the count: raise COUNT so seed() adds listings"
    assert indexed > 0, "synthetic listings must be searchable (web-compare searches their keywords)"
    assert head

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "TESTING": True, "SERVER_NAME": "localhost",
                      "MATCH_INDEX_PATH": str(tmp_path / "index")})
    with app.app_context():
        client = app.test_client()
        assert client.get("/achievements?page=2").status_code == 200
        assert client.get(f"/achievements/{synthetic[-1]}").status_code == 200
        db.engine.dispose()


BENCH_IMPORT_LOAD = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_import_load.py"


def test_the_import_load_benchmark_seeds_a_researcher_who_can_log_in(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_import_load", BENCH_IMPORT_LOAD)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    bench.seed(url)

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "TESTING": True, "DEMO_MODE": True,
                      "WTF_CSRF_ENABLED": False, "MATCH_INDEX_PATH": str(tmp_path / "index")})
    with app.app_context():
        answer = app.test_client().post("/login", data={"email": bench.RESEARCHER, "password": bench.PASSWORD})
        db.engine.dispose()
    assert answer.status_code == 302, "the benchmark logs its researchers in through this form"
