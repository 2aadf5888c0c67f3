"""Evaluation speed of recloop next to peer libraries, on the identical split, with equal values.

For each dataset and model this prints the seconds recloop takes to score, rank and compute the
metrics for every test user, the same evaluation run by each importable peer (cornac, lenskit)
on the identical train/test pairs, the speed-up, and NDCG@10 / Recall@10 of both sides with a
flag saying whether they agree to 1e-6 (the issue's goal: >= 5x faster, identical values).

Protocol (REFERENCES.md, "Speed anchors"): ratings >= 4 are positives, temporal leave-last-1-out
(`make_split(data, "temporal-loo")`), full ranking over all items, train items excluded, top-10;
evaluation seconds exclude the fit (done once) and are the best of `--repeats` runs. recloop's
figure is `evaluate(model, split, k=10, fit=False).eval_seconds`, which also computes the
beyond-accuracy metrics the peers do not. Models: EASE(l2=500), ItemKNN(neighbors=100, shrink=0).

Datasets: ML-1M when `$RECLOOP_DATA_DIR/ml-1m` exists, else the synthetic world at ML-1M scale
(`synthetic-1m`), and ML-100K. cornac's ItemKNN is not compared: it computes similarity over
co-raters only, which on binary data is not cosine; lenskit's ItemKNN chooses neighbours per
user and target, so it scores with recloop's pruned similarity loaded (see `_peers.py`).
Skipped and failed peers are listed as rows with the reason; the exit code is 1 when any peer's
values differ or a peer failed. Peers: `pip install torch==2.13.0` (CPU wheel) before
`pip install cornac 'lenskit>=2025.8,<2026'`, or lenskit pulls a multi-GB CUDA torch.

    RECLOOP_DATA_DIR=../shared/data .venv/bin/python benchmarks/bench_eval.py [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import _peers  # beside this file: a script's own folder is first on sys.path
import numpy as np
from rich.console import Console
from rich.table import Table

from recloop.recsys.data import DEFAULT_IMPLICIT_THRESHOLD
from recloop.recsys.datadir import DataUnavailableError, data_dir
from recloop.recsys.datasets import load_dataset
from recloop.recsys.evaluate import evaluate
from recloop.recsys.models import make_model
from recloop.recsys.protocol import ScoringRecommender
from recloop.recsys.splits import Split, make_split

K = _peers.K
TOLERANCE = 1e-6
GOAL = 5.0  # the target speed-up over a peer
MODELS: dict[str, dict[str, Any]] = {
    "ease": {"l2": 500.0},
    "itemknn": {"neighbors": 100, "shrink": 0.0},
}
PEERS = ("cornac", "lenskit")
NOT_COMPARABLE = {
    ("cornac", "itemknn"): "cornac's ItemKNN is similarity over co-raters only: not cosine on "
    "binary data, so no valid comparison",
}
stderr = Console(stderr=True)


@dataclass
class Row:
    """One line of the table: recloop and one peer on one dataset and model."""

    dataset: str
    model: str
    test_users: int
    recloop_seconds: float
    recloop_fit_seconds: float
    recloop_ndcg: float
    recloop_recall: float
    peer: str
    peer_seconds: float | None = None
    speedup: float | None = None
    peer_ndcg: float | None = None
    peer_recall: float | None = None
    values_match: bool | None = None
    users_differing: int | None = None
    note: str = ""


@dataclass(frozen=True)
class RecloopRun:
    """recloop's fitted model, best evaluation time and per-user NDCG / Recall."""

    model: ScoringRecommender
    seconds: float
    fit_seconds: float
    ndcg: np.ndarray
    recall: np.ndarray


def default_datasets() -> list[str]:
    """ML-1M when its files are there, else the synthetic world at its scale; then ML-100K."""
    big = "ml-1m" if (data_dir() / "ml-1m").is_dir() else "synthetic-1m"
    return [big, "ml-100k"]


def load_split(name: str, seed: int) -> Split:
    """Positives (rating >= 4) of a dataset, split temporal leave-last-1-out."""
    data = load_dataset(name, seed=seed).implicit(DEFAULT_IMPLICIT_THRESHOLD)
    return make_split(data, "temporal-loo", seed=seed)


def run_recloop(name: str, split: Split, repeats: int) -> RecloopRun:
    """Fit once, then evaluate `repeats` times without refitting; keep the fastest."""
    model = make_model(name, **MODELS[name])
    fit = evaluate(model, split, k=K, fit=True)  # also a warm-up of the evaluation path
    runs = [evaluate(model, split, k=K, fit=False) for _ in range(repeats)]
    best = min(runs, key=lambda r: r.eval_seconds)
    ndcg, recall = best.per_user["ndcg"], best.per_user["recall"]
    return RecloopRun(model, best.eval_seconds, fit.fit_seconds, ndcg, recall)


def run_peer(peer: str, name: str, split: Split, mine: RecloopRun, repeats: int) -> _peers.PeerRun:
    if peer == "cornac":
        return _peers.cornac_ease(split, MODELS[name]["l2"], repeats)
    return _peers.lenskit_eval(name, split, MODELS[name], mine.model, repeats)


def compare(row: Row, mine: RecloopRun, theirs: _peers.PeerRun) -> Row:
    """Fill the peer's side of a row: time, ratio, values and whether they match."""
    row.peer_seconds = theirs.seconds
    row.speedup = theirs.seconds / mine.seconds
    row.peer_ndcg = float(np.mean(theirs.ndcg))  # a missing user makes it NaN
    row.peer_recall = float(np.mean(theirs.recall))
    per_user_gap = np.maximum(np.abs(theirs.ndcg - mine.ndcg), np.abs(theirs.recall - mine.recall))
    row.users_differing = int(np.count_nonzero(~(per_user_gap <= TOLERANCE)))  # NaN differs too
    row.values_match = (
        abs(row.peer_ndcg - row.recloop_ndcg) <= TOLERANCE
        and abs(row.peer_recall - row.recloop_recall) <= TOLERANCE
    )
    row.note = theirs.config
    return row


@contextmanager
def step(description: str) -> Iterator[None]:
    """A spinner on stderr while a step runs, and a log line when it is done."""
    with stderr.status(description):
        yield
    stderr.log(f"[green]done[/] {description}")


def benchmark(
    datasets: list[str], models: list[str], peers: list[str], repeats: int, seed: int
) -> list[Row]:
    missing = {p: why for p in peers if (why := _peers.unavailable(p))}
    for peer, why in missing.items():
        stderr.log(f"[yellow]skipping {peer}[/]: {why}")
    rows: list[Row] = []
    for dataset in datasets:
        try:
            with step(f"{dataset}: load and split"):
                split = load_split(dataset, seed)
        except DataUnavailableError as exc:
            stderr.log(f"[yellow]skipping {dataset}[/]: {exc}")
            continue
        for name in models:
            with step(f"{dataset} {name}: recloop fit + {repeats} evaluations"):
                mine = run_recloop(name, split, repeats)
            for peer in peers:
                row = Row(
                    dataset=dataset,
                    model=name,
                    test_users=len(split.test_users),
                    recloop_seconds=mine.seconds,
                    recloop_fit_seconds=mine.fit_seconds,
                    recloop_ndcg=float(mine.ndcg.mean()),
                    recloop_recall=float(mine.recall.mean()),
                    peer=peer,
                )
                if (peer, name) in NOT_COMPARABLE:
                    row.note = "skipped: " + NOT_COMPARABLE[(peer, name)]
                elif peer in missing:
                    row.note = "skipped: " + missing[peer]
                else:
                    try:
                        with step(f"{dataset} {name}: {peer} fit + {repeats} evaluations"):
                            compare(row, mine, run_peer(peer, name, split, mine, repeats))
                    except Exception as exc:  # one broken peer must not hide the other rows
                        row.note = f"failed: {type(exc).__name__}: {exc}"
                        stderr.log(f"[red]{dataset} {name} {peer} {row.note}[/]")
                rows.append(row)
    return rows


def _num(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def render(rows: list[Row]) -> Table:
    """The rows as a table; each row's peer configuration or skip reason goes in a footnote."""
    table = Table(title=f"Evaluation seconds (score + rank + metrics, fit excluded), top-{K}")
    for header in ("dataset", "model", "users", "recloop s", "peer", "peer s", "speed-up"):
        table.add_column(header, justify="right" if header.endswith(("s", "up")) else "left")
    for side in ("recloop", "peer"):
        for metric in ("ndcg", "recall"):
            table.add_column(f"{side} {metric}@{K}", justify="right")
    table.add_column("values match", justify="right")
    for i, r in enumerate(rows, 1):
        match = "—" if r.values_match is None else ("yes" if r.values_match else "[red]NO[/]")
        if r.users_differing:
            match += f" ({r.users_differing} users differ)"
        table.add_row(
            r.dataset,
            r.model,
            str(r.test_users),
            _num(r.recloop_seconds, 3),
            f"{r.peer} [{i}]",
            _num(r.peer_seconds, 3),
            "—"
            if r.speedup is None
            else f"[{'green' if r.speedup >= GOAL else 'yellow'}]{r.speedup:.1f}x[/]",
            _num(r.recloop_ndcg, 6),
            _num(r.recloop_recall, 6),
            _num(r.peer_ndcg, 6),
            _num(r.peer_recall, 6),
            match,
        )
    table.caption = "\n".join(f"[{i}] {r.note}" for i, r in enumerate(rows, 1))
    table.caption_justify = "left"
    return table


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        action="append",
        help="dataset name (repeatable); default: ml-1m if present else synthetic-1m, ml-100k",
    )
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated models")
    parser.add_argument("--peers", default=",".join(PEERS), help="comma-separated peers")
    parser.add_argument("--repeats", type=int, default=3, help="evaluations per side; best kept")
    parser.add_argument("--seed", type=int, default=0, help="split (and synthetic world) seed")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON on stdout")
    args = parser.parse_args(argv)
    args.models = [m for m in args.models.split(",") if m]
    args.peers = [p for p in args.peers.split(",") if p]
    for kind, given, known in (("model", args.models, MODELS), ("peer", args.peers, PEERS)):
        if unknown := sorted(set(given) - set(known)):
            parser.error(f"unknown {kind} {', '.join(unknown)}; choose from {', '.join(known)}")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    datasets = args.data or default_datasets()
    rows = benchmark(datasets, args.models, args.peers, args.repeats, args.seed)
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
    else:
        out = Console()
        (out if out.is_terminal else Console(width=160)).print(render(rows))
    bad = [r for r in rows if r.values_match is False or r.note.startswith("failed")]
    for r in bad:
        stderr.log(f"[red]values differ or peer failed[/]: {r.dataset} {r.model} vs {r.peer}")
    return 1 if bad or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
