"""Progress callbacks: how long-running work reports itself without knowing who is watching.

Library code calls these; only the CLI turns them into progress bars (see `console`).
"""

from collections.abc import Callable

ProgressCallback = Callable[[int, int], None]  # (done, total)
StageProgress = Callable[[str, int, int], None]  # (stage, done, total)
