"""What the static checks look for: the import denylist and the names that reach outside.

Kept apart from the scanner (`static_checks`) so the rules read as a list. Every entry of
`DENIED_IMPORTS` says why a recommender has no business importing that standard-library module;
`WATCHED` maps a qualified name (as the scanner resolves it through the file's imports) to the
cause code and the phrase of the finding.
"""

from __future__ import annotations

import re

from recloop.cascade import causes

# Standard-library modules a recommender has no business importing, and why.
DENIED_IMPORTS: dict[str, str] = {
    **dict.fromkeys(
        ("socket", "ssl", "http", "urllib", "ftplib", "smtplib", "poplib", "imaplib"),
        "network access",
    ),
    **dict.fromkeys(
        ("nntplib", "telnetlib", "xmlrpc", "socketserver", "asyncio", "webbrowser"),
        "network access",
    ),
    "subprocess": "starts other programs",
    "pty": "starts other programs",
    "multiprocessing": "starts processes outside the sandbox's accounting",
    "concurrent": "process pools (concurrent.futures) start processes",
    "ctypes": "native calls and raw memory bypass every Python-level check",
    "importlib": "imports modules by computed name, hiding what the code uses",
    "runpy": "runs modules by name",
    "pkgutil": "loads modules by name",
    "zipimport": "imports code from archives",
    "code": "runs interactive interpreters",
    "codeop": "compiles code from strings",
    "pickle": "unpickling runs arbitrary code",
    "marshal": "loads code objects",
    "shelve": "unpickles on read",
    "shutil": "copies, moves and deletes file trees",
    "builtins": "replaces built-ins for every module, the harness's included",
    "inspect": "reads the caller's frames, the harness's variables included",
    "gc": "reaches any live object, the harness's included",
    "atexit": "runs code after the harness has written its result",
    "signal": "changes how the process answers the supervisor's signals",
    "resource": "changes the process's resource limits",
    "site": "changes how modules are found",
}
HARNESS_PACKAGE = "recloop"

ENV_NAMES = ("environ", "environb", "getenv", "getenvb", "putenv", "unsetenv")
PROCESS_NAMES = (
    "system",
    "popen",
    "fork",
    "forkpty",
    "kill",
    "killpg",
    "_exit",
    "abort",
    "posix_spawn",
    "posix_spawnp",
    "execl",
    "execle",
    "execlp",
    "execlpe",
    "execv",
    "execve",
    "execvp",
    "execvpe",
    "spawnl",
    "spawnle",
    "spawnlp",
    "spawnlpe",
    "spawnv",
    "spawnve",
    "spawnvp",
    "spawnvpe",
)
OS_WRITES = (
    "remove",
    "unlink",
    "rename",
    "renames",
    "replace",
    "mkdir",
    "makedirs",
    "rmdir",
    "removedirs",
    "symlink",
    "link",
    "truncate",
    "chmod",
    "chown",
    "mkfifo",
    "mknod",
)
WATCHED: dict[str, tuple[str, str]] = {
    **{f"os.{n}": (causes.ENVIRONMENT_READ, "reads the environment") for n in ENV_NAMES},
    **{f"os.{n}": (causes.PROCESS_CONTROL, "starts or signals processes") for n in PROCESS_NAMES},
    **{f"os.{n}": (causes.FILE_WRITE, "changes the file system") for n in OS_WRITES},
    **{
        f"builtins.{n}": (causes.DYNAMIC_CODE, "runs code built at run time")
        for n in ("eval", "exec", "compile", "__import__")
    },
    **{
        f"sys.{n}": (causes.FRAME_ACCESS, "reaches the harness's frames or modules")
        for n in ("_getframe", "_current_frames", "settrace", "setprofile", "modules")
    },
    **{
        name: (causes.FILE_WRITE, "writes a file")
        for name in (
            "numpy.save",
            "numpy.savez",
            "numpy.savez_compressed",
            "numpy.savetxt",
            "scipy.sparse.save_npz",
        )
    },
}
BUILTINS = ("eval", "exec", "compile", "__import__", "open", "setattr", "delattr")
FRAME_ATTRS = frozenset(
    (
        "f_back",
        "f_globals",
        "f_locals",
        "f_builtins",
        "tb_frame",
        "gi_frame",
        "cr_frame",
        "__globals__",
        "__builtins__",
        "__subclasses__",
    )
)
WRITE_METHODS = frozenset(
    (
        "write_text",
        "write_bytes",
        "touch",
        "mkdir",
        "unlink",
        "rmdir",
        "symlink_to",
        "hardlink_to",
        "tofile",
    )
)
OPENERS = frozenset(("builtins.open", "io.open", "codecs.open", "os.fdopen"))
PATH_CALLS = frozenset(
    (
        "pathlib.Path",
        "pathlib.PurePath",
        "pathlib.PosixPath",
        "os.path.abspath",
        "os.path.realpath",
        "os.path.normpath",
    )
)
ABSOLUTE_PATH = re.compile(r"^(?:/[^/\s]|~[/\w]|[A-Za-z]:[\\/])")
PARENT_SEGMENT = re.compile(r"(?:^|[\\/])\.\.(?:[\\/]|$)")
PRIORITY = (
    causes.HARNESS_IMPORT,
    causes.DENIED_IMPORT,
    causes.UNDECLARED_IMPORT,
    causes.PATH_OUTSIDE_WORKTREE,
    causes.ENVIRONMENT_READ,
    causes.DYNAMIC_CODE,
    causes.PROCESS_CONTROL,
    causes.FRAME_ACCESS,
    causes.MONKEYPATCH,
    causes.FILE_WRITE,
)
