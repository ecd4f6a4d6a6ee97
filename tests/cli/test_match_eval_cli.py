"""The evaluation commands keep their contract: result lines only on stdout, timings as the last stderr line."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]

ACHIEVEMENTS = [
    {"id": "cs:001#a+b", "summary": "质子交换膜燃料电池电堆的低铂催化剂，功率密度高。", "field": "动力工程"},
    {"id": "cs:002", "title": "镁基储氢合金", "summary": "镁基储氢合金在常温下吸放氢。", "keywords": ["储氢 合金", "镁"],
     "field": "材料科学"},
    {"id": "cs:003", "summary": "钙钛矿太阳能电池的界面钝化方法。", "field": "材料科学"},
    {"id": "cs:004", "summary": "煤矿综采工作面液压支架电液控制系统。", "keywords": [], "field": ""},
    {"id": "cs:005", "summary": "", "title": "", "keywords": None},
    {"id": "cs:006"},
    {"id": "cs:007", "summary": "黄芪多糖的提取纯化工艺。", "field": "中药学"},
]
DEMANDS = [
    {"id": "q:1#title", "title": "燃料电池电堆催化剂"},
    {"id": "q:2#keywords", "keywords": ["储氢 合金", "吸放氢"]},
    {"id": "q:3+x", "description": "寻找电池相关技术：燃料电池、太阳能电池、储能电池"},
    {"id": "q:4", "title": ""},
    {"id": "q:5", "title": "无关的需求", "field": "中药学"},
]
LABELLED = [
    {"id": "l:1", "summary": "燃料电池电堆与膜电极", "field": "动力工程"},
    {"id": "l:2", "summary": "燃料电池双极板", "field": "动力工程"},
    {"id": "l:3", "summary": "中药黄芪的有效成分", "field": "中药学"},
    {"id": "l:4", "summary": "中药复方的质量控制", "field": "中药学", "keywords": ["指纹 图谱"]},
]
ITEMS = [
    {"id": "i:1#x", "summary": "膜电极催化剂"},
    {"id": "i:2+y", "summary": "黄芪多糖", "title": "中药"},
    {"id": "i:3", "summary": ""},
]


def write_jsonl(path, rows):
    """Write rows as JSON lines; return the path as a string."""
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return str(path)


def run_flask(*args):
    """Run a flask command of the project in a subprocess."""
    environment = dict(os.environ, PYTHONPATH=str(PROJECT))
    return subprocess.run([sys.executable, "-m", "flask", "--app", "market", *args], cwd=PROJECT,
                          capture_output=True, text=True, env=environment, timeout=300, check=False)


def last_stderr_json(result):
    """The JSON object on the last stderr line."""
    return json.loads(result.stderr.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def match_eval_run(tmp_path_factory):
    """One match-eval run over the small task files, shared by the contract tests."""
    folder = tmp_path_factory.mktemp("match-eval")
    return run_flask("match-eval", "--achievements", write_jsonl(folder / "a.jsonl", ACHIEVEMENTS),
                     "--demands", write_jsonl(folder / "d.jsonl", DEMANDS), "--top", "2")


def test_match_eval_prints_one_json_line_per_demand_and_nothing_else(match_eval_run):
    assert match_eval_run.returncode == 0, match_eval_run.stderr
    rows = [json.loads(line) for line in match_eval_run.stdout.splitlines()]
    assert [row["demand"] for row in rows] == [d["id"] for d in DEMANDS]
    assert all(set(row) == {"demand", "matches"} for row in rows)
    assert match_eval_run.stdout.endswith("\n") and "" not in match_eval_run.stdout.splitlines()


def test_match_eval_lists_at_most_top_matches_best_first_with_ids_kept(match_eval_run):
    rows = {row["demand"]: row["matches"] for row in map(json.loads, match_eval_run.stdout.splitlines())}
    known = {a["id"] for a in ACHIEVEMENTS}
    for matches in rows.values():
        assert len(matches) <= 2
        assert all(set(m) == {"achievement", "score"} and m["achievement"] in known for m in matches)
        assert all(isinstance(m["score"], float) and 0 <= m["score"] <= 100 for m in matches)
        order = [(-m["score"], m["achievement"]) for m in matches]
        assert order == sorted(order)
    assert rows["q:1#title"][0]["achievement"] == "cs:001#a+b"
    assert rows["q:2#keywords"][0]["achievement"] == "cs:002"
    assert rows["q:4"] == []


def test_match_eval_reports_timings_as_the_last_stderr_line(match_eval_run):
    timings = last_stderr_json(match_eval_run)
    assert {"index_seconds", "rank_seconds", "per_demand_ms_p50"} <= set(timings)
    assert timings["achievements"] == len(ACHIEVEMENTS) and timings["demands"] == len(DEMANDS)


def test_suggest_field_prints_one_label_per_item_from_the_labelled_fields(tmp_path):
    result = run_flask("suggest-field", "--labelled", write_jsonl(tmp_path / "l.jsonl", LABELLED),
                       "--items", write_jsonl(tmp_path / "i.jsonl", ITEMS))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["id"] for row in rows] == [item["id"] for item in ITEMS]
    assert {row["field"] for row in rows} <= {"动力工程", "中药学"}
    assert rows[0]["field"] == "动力工程" and rows[1]["field"] == "中药学"
    assert last_stderr_json(result)["items"] == len(ITEMS)


def test_match_eval_rejects_a_line_that_is_not_json(tmp_path):
    broken = tmp_path / "a.jsonl"
    broken.write_text('{"id": "a1", "summary": "燃料电池"}\nnot json\n', encoding="utf-8")
    result = run_flask("match-eval", "--achievements", str(broken),
                       "--demands", write_jsonl(tmp_path / "d.jsonl", DEMANDS))
    assert result.returncode != 0 and result.stdout == ""
    assert "a.jsonl:2" in result.stderr
