"""The search meets its relevance targets over the demo data and the query set: recall@5, MRR, no empty answer."""
from market.extensions import db
from market.seeding import load_demo_data
from tests.search_relevance.evaluate import current_search, evaluate, format_outcome, load_queries, show_demo_as_of

RECALL_AT_5 = 0.90
MRR = 0.75


def test_the_search_finds_what_the_query_set_asks_for(app):
    load_demo_data(db.session, "demo-password-1", password_profile="fast", upload_folder=app.config["UPLOAD_FOLDER"])
    show_demo_as_of(db.session)
    report = evaluate(db.session, current_search, load_queries())
    worst = "\n".join(format_outcome(outcome) for outcome in report.worst(8))
    assert report.recall_at_5 >= RECALL_AT_5, f"recall@5 {report.recall_at_5:.3f}; the worst queries:\n{worst}"
    assert report.mrr >= MRR, f"MRR {report.mrr:.3f}; the worst queries:\n{worst}"
    assert not report.zero_result_queries, [outcome.query.id for outcome in report.zero_result_queries]
