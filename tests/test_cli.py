"""The `recloop` command, run as a real subprocess the way a person or CI runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recloop.recsys.datadir import DATA_DIR_ENV

# a proxy nobody listens on: downloads fail at once instead of waiting on a closed network
OFFLINE = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}


def _recloop(
    *args: str, data_dir: Path | None = None, offline: bool = False
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if data_dir is not None:
        env[DATA_DIR_ENV] = str(data_dir)
    if offline:
        env.update(OFFLINE)
    return subprocess.run(
        [sys.executable, "-m", "recloop.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def _words(text: str) -> str:
    """Text without rich's box drawing and line wrapping, for matching sentences."""
    return " ".join(text.replace("│", " ").split())


def test_eval_json_prints_one_object_with_the_documented_keys(ml100k_root: Path) -> None:
    done = _recloop("eval", "--data", "ml-100k", "--model", "pop", "--json", data_dir=ml100k_root)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    for key in ("ndcg@10", "recall@10", "coverage@10", "n_users", "seconds", "dataset"):
        assert key in report
    assert report["n_users"] > 900
    assert 0 < report["ndcg@10"] < report["recall@10"] <= 1


def test_eval_k_changes_the_keys(ml100k_root: Path) -> None:
    done = _recloop("eval", "--model", "pop", "--k", "5", "--json", data_dir=ml100k_root)
    assert done.returncode == 0, done.stderr
    assert "ndcg@5" in json.loads(done.stdout)


def test_eval_unknown_model_names_the_choices() -> None:
    done = _recloop("eval", "--model", "nope")
    assert done.returncode == 2
    assert "pop, itemknn, ease, rp3beta" in _words(done.stderr)


def test_eval_without_data_says_where_it_looked(tmp_path: Path) -> None:
    done = _recloop("eval", "--data", "ml-1m", "--json", data_dir=tmp_path, offline=True)
    assert done.returncode == 2
    assert "could not be downloaded" in _words(done.stderr)


@pytest.mark.parametrize("flag", ["--help"])
def test_help_states_the_implicit_threshold(flag: str) -> None:
    done = _recloop("eval", flag)
    assert done.returncode == 0
    assert "ratings >= the threshold (default 4)" in _words(done.stdout).lower()


def test_leaderboard_ranks_the_reference_models(ml100k_root: Path) -> None:
    done = _recloop("leaderboard", data_dir=ml100k_root)
    assert done.returncode == 0, done.stderr
    assert "dataset: ml-100k" in done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("│")]
    models = [line.split("│")[1].strip() for line in lines]
    assert sorted(models) == ["ease", "itemknn", "pop", "rp3beta"]
    assert models[-1] == "pop"  # sorted by NDCG: popularity is the weakest reference


def test_leaderboard_falls_back_to_the_synthetic_world_and_says_so(tmp_path: Path) -> None:
    done = _recloop("leaderboard", data_dir=tmp_path, offline=True)
    assert done.returncode == 0, done.stderr
    assert "synthetic world, because ml-100k is unavailable" in _words(done.stderr)
    assert "synthetic" in done.stdout


def test_eval_reads_a_teams_own_log_with_items(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 40, 1500), rng.integers(0, 60, 1500)
    log = tmp_path / "events.csv"
    rows = [f"u{u},i{i},{t}" for t, (u, i) in enumerate(zip(users, items, strict=True))]
    log.write_text("visitor,sku_code,when\n" + "\n".join(rows) + "\n")
    item_file = tmp_path / "items.csv"
    item_file.write_text("sku,category\n" + "\n".join(f"i{i},c{i % 4}" for i in range(60)) + "\n")
    done = _recloop(
        "eval",
        "--data",
        str(log),
        "--columns",
        "user=visitor,item=sku_code,time=when",
        "--items",
        str(item_file),
        "--model",
        "itemknn",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    assert "columns: user=visitor, item=sku_code, time=when" in done.stderr
    report = json.loads(done.stdout)
    assert report["dataset"]["users"] == 40
    assert report["dataset"]["duplicates_removed"] == 1500 - len(
        set(zip(users, items, strict=True))
    )
    assert 0 < report["diversity@10"] <= 1  # genres from the item file reach the metric


def test_eval_bad_log_exits_with_the_reason(tmp_path: Path) -> None:
    log = tmp_path / "broken.csv"
    log.write_text("user_id,item_id,rating\n1,2,five\n")
    done = _recloop("eval", "--data", str(log))
    assert done.returncode == 2
    assert "not a number" in _words(done.stderr)


def test_eval_workspace_scores_the_champion_in_the_sandbox(
    tmp_path: Path, ml100k_root: Path
) -> None:
    created = _recloop("init", str(tmp_path / "ws"))
    assert created.returncode == 0, created.stderr
    done = _recloop("eval", "--workspace", str(tmp_path / "ws"), "--json", data_dir=ml100k_root)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["candidate"] == "champion" and report["k"] == 10
    assert 0 < report["ndcg@10"] < 1


def test_eval_workspace_with_unknown_candidate_fails_clearly(tmp_path: Path) -> None:
    assert _recloop("init", str(tmp_path / "ws")).returncode == 0
    done = _recloop("eval", "--workspace", str(tmp_path / "ws"), "--candidate", "ghost")
    assert done.returncode == 2
    assert "ghost" in _words(done.stderr)
