"""Static checks: imports, reaching outside the worktree, and what they must not flag."""

from __future__ import annotations

import ast
from importlib import resources

import pytest

from recloop.cascade import causes
from recloop.cascade.rules import DENIED_IMPORTS
from recloop.cascade.static_checks import new_findings, scan_source

FIRST_PARTY = frozenset({"movierec"})
DEPS = frozenset({"numpy", "scipy"})


def _scan(source: str, path: str = "movierec/a.py") -> list[str]:
    tree = ast.parse(source)
    return [f.cause for f in scan_source(path, tree, first_party=FIRST_PARTY, dependencies=DEPS)]


@pytest.mark.parametrize(
    ("source", "cause"),
    [
        ("import recloop.recsys.evaluate as e", causes.HARNESS_IMPORT),
        ("from recloop import workspace", causes.HARNESS_IMPORT),
        ("import socket", causes.DENIED_IMPORT),
        ("from urllib.request import urlopen", causes.DENIED_IMPORT),
        ("import importlib", causes.DENIED_IMPORT),
        ("def f():\n    import pickle", causes.DENIED_IMPORT),
        ("import pandas as pd", causes.UNDECLARED_IMPORT),
        ("x = open('/etc/passwd')", causes.PATH_OUTSIDE_WORKTREE),
        ("x = '../../data/u.data'", causes.PATH_OUTSIDE_WORKTREE),
        ("x = f'~/cache/{1}'", causes.PATH_OUTSIDE_WORKTREE),
        (
            "from pathlib import Path\nx = Path(__file__).resolve().parents[2]",
            causes.PATH_OUTSIDE_WORKTREE,
        ),
        (
            "from pathlib import Path\nx = Path(__file__).parent.parent.parent",
            causes.PATH_OUTSIDE_WORKTREE,
        ),
        (
            "import os\nx = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))",
            causes.PATH_OUTSIDE_WORKTREE,
        ),
        ("import os\nx = os.environ['HOME']", causes.ENVIRONMENT_READ),
        ("from os import getenv\nx = getenv('HOME')", causes.ENVIRONMENT_READ),
        ("x = eval('1 + 1')", causes.DYNAMIC_CODE),
        ("exec('x = 1')", causes.DYNAMIC_CODE),
        ("m = __import__('os')", causes.DYNAMIC_CODE),
        ("import os\nos.system('ls')", causes.PROCESS_CONTROL),
        ("import os as o\no.kill(1, 9)", causes.PROCESS_CONTROL),
        ("import sys\nf = sys._getframe(1)", causes.FRAME_ACCESS),
        ("import sys\nsys.modules['x'] = None", causes.FRAME_ACCESS),
        ("def f(g):\n    return g.f_back", causes.FRAME_ACCESS),
        ("import numpy as np\nnp.argsort = sorted", causes.MONKEYPATCH),
        ("import time\ntime.perf_counter = lambda: 0.0", causes.MONKEYPATCH),
        ("import numpy as np\nsetattr(np, 'mean', max)", causes.MONKEYPATCH),
        ("from pathlib import Path\ndel Path.write_text", causes.MONKEYPATCH),
        ("with open('m.json', 'w') as f:\n    pass", causes.FILE_WRITE),
        ("open('m.json', mode='a')", causes.FILE_WRITE),
        ("from pathlib import Path\nPath('m.json').write_text('{}')", causes.FILE_WRITE),
        ("import numpy as np\nnp.save('x.npy', 1)", causes.FILE_WRITE),
        ("import os\nos.remove('x')", causes.FILE_WRITE),
    ],
)
def test_each_rule(source: str, cause: str) -> None:
    assert cause in _scan(source)


@pytest.mark.parametrize(
    "source",
    [
        '"""Docstring mentioning /etc/passwd and ../x."""',
        "x = 'a/b'.split('/')",
        "x = 'users / items'",
        "x = 'config/pipeline.toml'",
        "from pathlib import Path\nx = Path(__file__).resolve().parents[1] / 'config'",
        "with open('config.toml', 'rb') as f:\n    pass",
        "import numpy as np\nrng = np.random.default_rng(0)\nx = rng.random(3)",
        "import numpy as np\nout = np.zeros(3)\nout[np.arange(3)] = 1",
        "class A:\n    def f(self):\n        self.x = 1",
        "from movierec import pipeline\npipeline.BATCH_USERS = 2",
        "from __future__ import annotations\nimport os, sys, math, collections",
        "x = 'https://example.org/a/b'",
    ],
)
def test_ordinary_code_is_not_flagged(source: str) -> None:
    assert _scan(source) == []


def test_the_example_template_is_clean() -> None:
    root = resources.files("recloop.workspace") / "templates" / "movielens" / "movierec"
    for entry in root.iterdir():
        if entry.name.endswith(".py"):
            assert _scan(entry.read_text(encoding="utf-8"), f"movierec/{entry.name}") == []


def test_findings_are_located_and_ordered_by_priority() -> None:
    source = "import os\nopen('x', 'w')\nimport recloop\n"
    tree = ast.parse(source)
    found = scan_source("m/a.py", tree, first_party=FIRST_PARTY, dependencies=DEPS)
    assert [f.cause for f in found] == [causes.HARNESS_IMPORT, causes.FILE_WRITE]
    assert (found[0].line, found[1].line) == (3, 2)
    assert str(found[1].location()).startswith("m/a.py:2: [file-write]")


def test_only_new_findings_count() -> None:
    old = ast.parse("import os\nx = os.environ['A']\n")
    new = ast.parse("import os\n\nx = os.environ['A']\ny = os.environ['B']\n")
    scan = {"first_party": FIRST_PARTY, "dependencies": DEPS}
    fresh = new_findings(scan_source("a.py", new, **scan), scan_source("a.py", old, **scan))
    assert [(f.cause, f.line) for f in fresh] == [(causes.ENVIRONMENT_READ, 4)]


def test_every_denied_import_is_standard_library_and_justified() -> None:
    import sys

    for name, reason in DENIED_IMPORTS.items():
        assert name in sys.stdlib_module_names, name
        assert len(reason) > 10


def test_a_root_file_may_not_climb_at_all() -> None:
    source = "from pathlib import Path\nx = Path(__file__).parent.parent\n"
    assert _scan(source, "top.py") == [causes.PATH_OUTSIDE_WORKTREE]
    assert _scan(source, "a/b/deep.py") == []
