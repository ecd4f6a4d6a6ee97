"""Field suggestion against the linear SVM peer over random halves of the development data, in the same runs.

    .venv/bin/python tests/benchmarks/bench_field_suggestion.py [--splits 5] [--seed 1] [--match-eval PATH]

Each split shuffles the development documents with its own seed (seed, seed + 1, ...) and halves them: the
first half is the labelled listings, the second the items to label. The split goes to
`../shared/bin/match-eval --labelled-ids F --item-ids F --baselines`, which runs the project's `suggest-field`
command and the peers on the same halves; this script prints the project's accuracy beside the LinearSVC's for
every split, then the means, the mean margin and the smallest margin (the targets: mean margin ≥ 0.03, no split
below the SVM).
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"


def document_ids(data: Path) -> list[str]:
    """Ids of the development documents, sorted."""
    with (data / "docs.jsonl").open(encoding="utf-8") as lines:
        return sorted(json.loads(line)["id"] for line in lines if line.strip())


def halves(ids: list[str], seed: int) -> tuple[list[str], list[str]]:
    """(labelled, items): the ids shuffled with the seed, cut in two."""
    order = list(ids)
    random.Random(seed).shuffle(order)
    return order[: len(order) // 2], order[len(order) // 2:]


def run_split(match_eval: Path, data: Path, labelled: list[str], items: list[str], flask: str) -> dict:
    """match-eval's figures for one split (its last stdout line)."""
    with tempfile.TemporaryDirectory(prefix="suggest-split-") as folder:
        labelled_path, items_path = Path(folder, "labelled.txt"), Path(folder, "items.txt")
        labelled_path.write_text("\n".join(labelled) + "\n", encoding="utf-8")
        items_path.write_text("\n".join(items) + "\n", encoding="utf-8")
        environment = dict(os.environ, PYTHONPATH=str(ROOT))
        done = subprocess.run([sys.executable, str(match_eval), "--data", str(data), "--labelled-ids", str(labelled_path),
                               "--item-ids", str(items_path), "--baselines", "--flask", flask],
                              capture_output=True, text=True, cwd=ROOT, env=environment, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-3000:])
        raise SystemExit(f"match-eval failed ({done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1, help="seed of the first split (the next ones count up)")
    parser.add_argument("--match-eval", type=Path, default=SHARED / "bin" / "match-eval")
    parser.add_argument("--data", type=Path, default=SHARED / "data" / "match-dev")
    parser.add_argument("--flask", default=str(Path(sys.executable).with_name("flask")))
    args = parser.parse_args()
    ids = document_ids(args.data)
    ours, peers = [], []
    print(f"{'split':>5} {'seed':>5} {'ours':>7} {'svm':>7} {'margin':>7}")
    for number in range(args.splits):
        seed = args.seed + number
        figures = run_split(args.match_eval, args.data, *halves(ids, seed), args.flask)
        ours.append(figures["project"]["T3_accuracy"])
        peers.append(figures["baselines"]["svm_char12_T3_accuracy"])
        print(f"{number + 1:>5} {seed:>5} {ours[-1]:>7.4f} {peers[-1]:>7.4f} {ours[-1] - peers[-1]:>+7.4f}", flush=True)
    margins = [a - b for a, b in zip(ours, peers)]
    print(f"{'mean':>11} {sum(ours) / len(ours):>7.4f} {sum(peers) / len(peers):>7.4f} "
          f"{sum(margins) / len(margins):>+7.4f}")
    print(f"smallest margin {min(margins):+.4f}; targets: mean margin >= +0.03, no split below the SVM")


if __name__ == "__main__":
    main()
