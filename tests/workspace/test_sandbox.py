import json
import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recloop.recsys.data import Interactions, ItemInfo
from recloop.recsys.evaluate import evaluate
from recloop.recsys.models import make_model
from recloop.recsys.splits import Split, make_split
from recloop.workspace.errors import SandboxFailedError
from recloop.workspace.git import Candidates
from recloop.workspace.isolation import Isolation, hideable, namespace_prefix, paths_to_hide
from recloop.workspace.patch import PathPolicy, apply_patch
from recloop.workspace.sandbox import (
    SandboxLimits,
    _status,
    run_sandbox,
    scrubbed_env,
)
from recloop.workspace.sandbox_child import read_train
from recloop.workspace.sandbox_files import write_train
from recloop.workspace.sandboxed_recommender import SandboxedRecommender

ISOLATED = namespace_prefix()[0] is not None
needs_isolation = pytest.mark.skipif(
    not ISOLATED, reason=f"namespace isolation unavailable here: {namespace_prefix()[1]}"
)
FAST = SandboxLimits(wall_seconds=20, memory_mb=1024)

MODEL = """\
import numpy as np


class Popularity:
    \"\"\"Most popular unseen items by distinct users; ties to the lower item index.\"\"\"

    def fit(self, train):
        self.seen = train.binary
        self.scores = np.zeros(train.n_items)
        return self

    def recommend(self, user_ids, k, exclude_seen=True):
        scores = np.tile(self.scores, (len(user_ids), 1))
        if exclude_seen:
            rows = self.seen[user_ids]
            hit = np.repeat(np.arange(len(user_ids)), np.diff(rows.indptr))
            scores[hit, rows.indices] = -np.inf
        return np.argsort(-scores, axis=1, kind="stable")[:, :k]
"""

# Hostile recommenders: each reports what it found on stdout as one "FOUND {json}" line.
HOSTILE = """\
import json, os, signal, socket, subprocess, sys, time
from pathlib import Path

import numpy as np

from toyrec.model import Popularity

CONFIG = json.loads((Path(__file__).parent / "probe.json").read_text())


def report(found):
    print("FOUND " + json.dumps(found), flush=True)


class Sleeper(Popularity):
    def fit(self, train):
        marker = CONFIG["marker"]
        sleep = [sys.executable, "-c", "import time; time.sleep(600)", marker]
        subprocess.Popen(sleep)  # same process group
        subprocess.Popen(sleep + ["escaped"], start_new_session=True)  # its own session
        report({"spawned": 2})
        time.sleep(600)


class Spinner(Popularity):
    def fit(self, train):
        while True:
            pass


class Allocator(Popularity):
    def fit(self, train):
        blocks = []
        while True:
            blocks.append(np.ones(2**23))


class Segfault(Popularity):
    def fit(self, train):
        os.kill(os.getpid(), signal.SIGSEGV)


class Broken(Popularity):
    def fit(self, train):
        raise RuntimeError("the team's code is broken")


class Exits(Popularity):
    def fit(self, train):
        os._exit(3)


class Floats(Popularity):
    def recommend(self, user_ids, k, exclude_seen=True):
        return np.zeros((len(user_ids), k))


class SeenItems(Popularity):
    def recommend(self, user_ids, k, exclude_seen=True):
        return super().recommend(user_ids, k, exclude_seen=False)


class Network(Popularity):
    def fit(self, train):
        found = {}
        try:
            socket.create_connection(("127.0.0.1", CONFIG["port"]), timeout=2).close()
            found["connect"] = "connected"
        except OSError as exc:
            found["connect"] = str(exc)
        try:
            socket.getaddrinfo("example.com", 80)
            found["dns"] = "resolved"
        except OSError as exc:
            found["dns"] = str(exc)
        report(found)
        return super().fit(train)


class Secrets(Popularity):
    def fit(self, train):
        secrets = [s.encode() for s in CONFIG["secrets"]]
        in_env = [k for k, v in os.environ.items() if v.encode() in secrets or k in CONFIG["names"]]
        in_proc = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                blob = Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                continue
            in_proc += [pid for s in secrets if s in blob]
        report({"env": in_env, "proc": in_proc, "names": sorted(os.environ)})
        return super().fit(train)


class DataHunter(Popularity):
    def fit(self, train):
        data_dir = Path(CONFIG["data_dir"])
        scratch = Path(os.environ["HOME"]).parent.parent
        files = sorted(str(p.relative_to(scratch)) for p in scratch.rglob("*") if p.is_file())
        rows = {}
        for path in scratch.rglob("*.npz"):
            with np.load(path) as arrays:
                rows[path.name] = int(len(arrays["users"]))
        report({
            "planted_exists": (data_dir / "heldout.npz").exists(),
            "data_dir_listing": sorted(os.listdir(data_dir)) if data_dir.is_dir() else None,
            "scratch_files": files,
            "npz_rows": rows,
            "train_rows": int(train.n_interactions),
        })
        return super().fit(train)


class Writer(Popularity):
    def fit(self, train):
        found = {}
        for target in CONFIG["write_targets"] + [os.environ["TMPDIR"] + "/scratch.txt"]:
            try:
                Path(target).write_text("tampered")
                found[target] = "written"
            except OSError as exc:
                found[target] = exc.strerror
        report(found)
        return super().fit(train)
"""

FIX = """\
--- a/toyrec/model.py
+++ b/toyrec/model.py
@@ -7,7 +7,7 @@ class Popularity:
{blank}
     def fit(self, train):
         self.seen = train.binary
-        self.scores = np.zeros(train.n_items)
+        self.scores = train.item_counts.astype(np.float64)
         return self
{blank}
     def recommend(self, user_ids, k, exclude_seen=True):
""".format(blank=" ")


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="module")
def listener() -> Any:
    server = socket.create_server(("127.0.0.1", 0))
    yield server
    server.close()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, listener: socket.socket) -> Path:
    base = tmp_path_factory.mktemp("sandbox")
    root = base / "ws"
    package = root / "toyrec"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "model.py").write_text(MODEL)
    (package / "hostile.py").write_text(HOSTILE)
    config = {
        "marker": f"recloop-test-{uuid.uuid4().hex}",
        "port": listener.getsockname()[1],
        "secrets": ["sk-test-should-never-leak", "recloop-secret-value"],
        "names": ["OPENAI_API_KEY", "RECLOOP_SECRET", "RECLOOP_DATA_DIR"],
        "data_dir": str(base / "data"),
        "write_targets": [str(root / "toyrec" / "model.py"), str(base / "outside.txt")],
    }
    (package / "probe.json").write_text(json.dumps(config))
    (base / "data").mkdir()
    np.savez(base / "data" / "heldout.npz", users=np.arange(5), items=np.arange(5))
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "team code")
    return root


@pytest.fixture
def config(workspace: Path) -> dict[str, Any]:
    return json.loads((workspace / "toyrec" / "probe.json").read_text())


@pytest.fixture(autouse=True)
def data_dir(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = workspace.parent / "data"
    monkeypatch.setenv("RECLOOP_DATA_DIR", str(path))
    return path


def _log(n_users: int = 40, n_items: int = 30, per_user: int = 8) -> Interactions:
    rng = np.random.default_rng(1)
    users = np.repeat(np.arange(n_users), per_user)
    weights = 1.0 / np.arange(1, n_items + 1)
    items = np.concatenate(
        [
            rng.choice(n_items, per_user, replace=False, p=weights / weights.sum())
            for _ in range(n_users)
        ]
    )
    return Interactions.from_raw(users, items, timestamps=rng.integers(0, 1_000, len(users)))


@pytest.fixture(scope="module")
def split() -> Split:
    return make_split(_log(), "temporal-loo")


def _found(result: Any) -> dict[str, Any]:
    lines = [line for line in result.stdout_tail.splitlines() if line.startswith("FOUND ")]
    assert lines, f"no report from the child: {result.status} {result.detail}\n{result.stderr_tail}"
    return json.loads(lines[-1].removeprefix("FOUND "))


def _run(workspace: Path, split: Split, name: str, **kwargs: Any) -> Any:
    limits = kwargs.pop("limits", FAST)
    return run_sandbox(workspace, f"toyrec.hostile:{name}", split.train, 5, limits, **kwargs)


def test_candidate_patched_and_judged_by_recloop_evaluator(workspace: Path, split: Split) -> None:
    candidates = Candidates(workspace)
    candidate = candidates.create("fix-scores")
    try:
        apply_patch(candidate.path, FIX, PathPolicy(editable=("toyrec/**",)))
        candidates.commit("fix-scores", "score by popularity")
        sandboxed = SandboxedRecommender(candidate.path, "toyrec.model:Popularity", max_k=20)
        result = evaluate(sandboxed, split, k=10)
        reference = evaluate(make_model("pop"), split, k=10)
        champion = evaluate(SandboxedRecommender(workspace, "toyrec.model:Popularity"), split)
    finally:
        candidates.remove("fix-scores")
    assert result.summary() == pytest.approx(reference.summary())
    assert champion.summary()["ndcg@10"] != pytest.approx(reference.summary()["ndcg@10"])
    run = sandboxed.result
    assert run is not None and run.ok and run.exit_code == 0
    assert run.recommendations is not None and run.recommendations.shape == (40, 20)
    assert run.fit_seconds is not None and run.recommend_seconds is not None
    assert run.latency_ms_per_1k_users == pytest.approx(run.recommend_seconds * 1e6 / 40)
    assert run.cpu_seconds > 0 and 10 < run.peak_memory_mb < 1024 and 0 < run.wall_seconds < 20
    assert "recommendations" not in run.model_dump()  # results serialise without the array
    assert _git(workspace, "status", "--porcelain") == ""


def test_sandboxed_recommender_guards_its_protocol(workspace: Path, split: Split) -> None:
    model = SandboxedRecommender(workspace, "toyrec.model:Popularity", max_k=5)
    with pytest.raises(RuntimeError, match="fit"):
        model.recommend(np.arange(3), 5)
    model.fit(split.train)
    assert model.recommend(np.array([2, 0]), 3).shape == (2, 3)
    with pytest.raises(ValueError, match="exclude"):
        model.recommend(np.arange(3), 5, exclude_seen=False)
    with pytest.raises(ValueError, match="lists' length"):
        model.recommend(np.arange(3), 6)
    with pytest.raises(SandboxFailedError, match="crash") as info:
        SandboxedRecommender(workspace, "toyrec.hostile:Broken").fit(split.train)
    assert info.value.result.status == "crash"


def test_a_sleeping_child_and_its_children_are_killed_on_time(
    workspace: Path, split: Split, config: dict[str, Any]
) -> None:
    started = time.perf_counter()
    result = _run(workspace, split, "Sleeper", limits=SandboxLimits(wall_seconds=1.5))
    assert result.status == "timeout" and "wall-clock limit of 1.5 s" in result.detail
    assert 1.5 <= result.wall_seconds < 2.5
    assert time.perf_counter() - started < 4
    assert _found(result) == {"spawned": 2}
    survivors = _processes_with(config["marker"])
    if not ISOLATED:  # a grandchild in its own session escapes a process-group kill
        survivors = [p for p in survivors if "escaped" not in p[1]]
        for pid, _ in _processes_with(config["marker"]):
            os.kill(pid, signal.SIGKILL)
    assert survivors == []


def _processes_with(marker: str, grace: float = 2.0) -> list[tuple[int, str]]:
    """Live processes whose command line holds `marker`, after up to `grace` s for kills."""
    deadline = time.perf_counter() + grace
    while True:
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if marker in cmdline:
                found.append((int(pid), cmdline))
        if not found or time.perf_counter() > deadline:
            return found
        time.sleep(0.05)


def test_cpu_time_limit(workspace: Path, split: Split) -> None:
    limits = SandboxLimits(wall_seconds=20, cpu_seconds=1)
    result = _run(workspace, split, "Spinner", limits=limits)
    assert result.status == "timeout" and "CPU-time limit" in result.detail
    assert result.wall_seconds < 5 and result.cpu_seconds > 0.8  # RLIMIT_CPU is tick-based


def test_unbounded_allocation_is_stopped_as_oom(workspace: Path, split: Split) -> None:
    result = _run(
        workspace, split, "Allocator", limits=SandboxLimits(wall_seconds=20, memory_mb=400)
    )
    assert result.status == "oom" and "400 MB" in result.detail
    assert "MemoryError" in result.traceback_tail or "Unable to allocate" in result.traceback_tail
    assert result.peak_memory_mb < 400 and result.wall_seconds < 10


def test_a_signal_under_a_memory_limit_counts_as_oom(workspace: Path, split: Split) -> None:
    result = _run(workspace, split, "Segfault")
    assert result.status == "oom" and "SIGSEGV" in result.detail
    assert result.exit_code == -signal.SIGSEGV


@pytest.mark.parametrize(
    ("code", "memory_mb", "result", "expected"),
    [
        (-signal.SIGSEGV, None, {}, "crash"),
        (-signal.SIGKILL, 512, {}, "oom"),
        (-signal.SIGXCPU, 512, {}, "timeout"),
        (0, 512, {"status": "ok"}, "ok"),
        (0, 512, {}, "crash"),
        (1, 512, {"status": "ok"}, "crash"),
        (0, 512, {"status": "bad-output", "error": "shape"}, "bad-output"),
        (0, 512, {"status": "oom"}, "oom"),
    ],
)
def test_status_classification(
    code: int, memory_mb: int | None, result: dict[str, Any], expected: str
) -> None:
    limits = SandboxLimits(wall_seconds=60, memory_mb=memory_mb)
    assert _status(False, code, 0.5, result, limits)[0] == expected
    assert _status(True, code, 0.5, result, limits)[0] == "timeout"


def test_crashes_and_bad_outputs(workspace: Path, split: Split) -> None:
    broken = _run(workspace, split, "Broken")
    assert broken.status == "crash" and "the team's code is broken" in broken.detail
    assert "RuntimeError: the team's code is broken" in broken.traceback_tail
    exits = _run(workspace, split, "Exits")
    assert exits.status == "crash" and "code 3" in exits.detail
    floats = _run(workspace, split, "Floats")
    assert floats.status == "bad-output" and "float64" in floats.detail
    seen = _run(workspace, split, "SeenItems")
    assert seen.status == "bad-output" and "[seen-item]" in seen.detail
    missing = run_sandbox(workspace, "toyrec.nope:Model", split.train, 5, FAST)
    assert missing.status == "crash" and "ModuleNotFoundError" in missing.traceback_tail


@needs_isolation
def test_no_network(workspace: Path, split: Split) -> None:
    result = _run(workspace, split, "Network")
    assert result.ok and result.isolation.network == "isolated"
    found = _found(result)
    assert found["connect"] != "connected" and found["dns"] != "resolved"


def test_no_secret_from_the_parent_environment(
    workspace: Path, split: Split, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-should-never-leak")
    monkeypatch.setenv("RECLOOP_SECRET", "recloop-secret-value")
    result = _run(workspace, split, "Secrets")
    assert result.ok
    found = _found(result)
    assert found["env"] == []
    assert set(found["names"]) <= set(scrubbed_env(Path("/x"), 1))
    if result.isolation.processes == "isolated":  # otherwise /proc/<parent>/environ is readable
        assert found["proc"] == []


def test_no_held_out_data_in_sight(
    workspace: Path, split: Split, data_dir: Path, config: dict[str, Any]
) -> None:
    result = _run(workspace, split, "DataHunter")
    assert result.ok
    found = _found(result)
    expected = {"request.json", "train.npz", "logs/stdout", "logs/stderr"}  # box/ is empty
    assert set(found["scratch_files"]) - {"launch.json"} == expected
    assert found["npz_rows"] == {"train.npz": split.train.n_interactions}
    assert found["train_rows"] == split.train.n_interactions
    if ISOLATED:
        assert result.isolation.data == "hidden"
        assert str(data_dir.resolve()) in result.isolation.hidden_paths
        assert found["planted_exists"] is False and found["data_dir_listing"] == []
    else:
        assert result.isolation.data == "visible"


@needs_isolation
def test_writes_are_confined_to_the_scratch_folder(
    workspace: Path, split: Split, config: dict[str, Any]
) -> None:
    result = _run(workspace, split, "Writer")
    assert result.ok and result.isolation.filesystem == "read-only"
    found = _found(result)
    for target in config["write_targets"]:
        assert found[target] == "Read-only file system"
    assert [v for k, v in found.items() if k.endswith("scratch.txt")] == ["written"]
    assert (workspace / "toyrec" / "model.py").read_text() == MODEL


def test_isolation_is_reported(workspace: Path, split: Split) -> None:
    plain = run_sandbox(workspace, "toyrec.model:Popularity", split.train, 5, FAST, isolate=False)
    assert plain.ok and plain.isolation == Isolation.none("no namespaces: isolation turned off")
    assert not plain.isolation.complete
    if ISOLATED:
        isolated = run_sandbox(workspace, "toyrec.model:Popularity", split.train, 5, FAST)
        assert isolated.isolation.complete, isolated.isolation


def test_hideable_skips_folders_the_run_needs(tmp_path: Path) -> None:
    needed = tmp_path / "data" / "worktree"
    needed.mkdir(parents=True)
    (tmp_path / "cache").mkdir()
    ok, notes = hideable([tmp_path / "data", tmp_path / "cache", tmp_path / "absent"], [needed])
    assert ok == [str(tmp_path / "cache")]
    assert len(notes) == 1 and "cannot hide" in notes[0]
    assert Path(os.environ["RECLOOP_DATA_DIR"]).resolve() in paths_to_hide()
    assert paths_to_hide([tmp_path, tmp_path])[-1] == tmp_path.resolve()


def test_from_launcher_believes_only_what_was_confirmed() -> None:
    report = {"network": True, "pid_namespace": True, "hidden": ["/d"], "read_only_failed": []}
    assert Isolation.from_launcher(report, ["/d"], []).complete
    assert Isolation.from_launcher(report, ["/d", "/e"], []).data == "visible"
    assert Isolation.from_launcher(report, ["/d"], ["cannot hide /x"]).data == "visible"
    failed = Isolation.from_launcher({**report, "read_only_failed": ["/: EPERM"]}, ["/d"], [])
    assert failed.filesystem == "writable" and "failed: /: EPERM" in failed.notes
    assert Isolation.from_launcher(None, [], []).network == "unavailable"


def test_train_round_trips_through_npz(tmp_path: Path) -> None:
    train = _log()
    genres = np.eye(train.n_items, 3)
    info = ItemInfo(
        __import__("scipy.sparse").sparse.csr_matrix(genres),
        ("a", "b", "c"),
        np.arange(train.n_items, dtype=float),
    )
    train = Interactions(
        train.users,
        train.items,
        train.ratings,
        train.timestamps,
        train.user_ids,
        train.item_ids,
        name="toy",
        item_info=info,
    )
    write_train(train, tmp_path / "t.npz")
    back = read_train(tmp_path / "t.npz")
    for name in ("users", "items", "ratings", "timestamps", "user_ids", "item_ids"):
        np.testing.assert_array_equal(getattr(back, name), getattr(train, name))
    assert back.name == "toy" and back.item_info is not None
    assert back.item_info.genre_names == ("a", "b", "c")
    assert (back.item_info.genres != info.genres).nnz == 0
    with np.load(tmp_path / "t.npz", allow_pickle=False) as data:
        assert int(data["n_users"]) == train.n_users
