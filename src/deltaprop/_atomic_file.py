"""Atomic file writes: a temporary file beside the target, fsynced, then renamed over it.

A temporary file is named ``.NAME.saving-HOST-PID-RANDOM.tmp``: hidden, ending in ``.tmp``
(never ``NAME``'s own suffix, so no glob for models matches it), and saying who wrote it. A save
killed before its rename leaves it behind; the next save of the same ``NAME`` removes it once it
is **stale**: its writer was on this host and that process is gone, or nobody has written to it for
``STALE_SECONDS`` (a writer on another host sharing the folder, or a reused process id). A live
save's temporary file is never touched, whichever process it belongs to.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import socket
import time
from collections.abc import Callable
from pathlib import Path

STALE_SECONDS = 3600


def host_tag() -> str:
    """This host's name, letters and digits only (at most 16)."""
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:16] or "host"


def write_atomic(path: Path, write: Callable, overwrite: bool = True) -> None:
    """``write(fh)`` into a temporary file beside ``path``, fsync, then rename it over ``path``.

    With ``overwrite=False`` an existing ``path`` is never replaced (``FileExistsError``), even
    one created while writing: the finished file is hard-linked into place, which fails if the
    name exists (or, where links are unsupported, renamed after one last check).
    """
    if not overwrite and path.exists():
        raise FileExistsError(errno.EEXIST, "file exists (not replaced)", str(path))
    remove_stale_temporaries(path)
    fd, tmp = _create_temporary(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            with contextlib.suppress(FileNotFoundError):  # replacing a file: keep its permissions
                os.chmod(tmp, path.stat().st_mode & 0o7777)
            os.replace(tmp, path)
        else:
            _publish_new(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _publish_new(tmp: Path, path: Path) -> None:
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, "file exists (not replaced)", str(path)) from None
    except (OSError, AttributeError, NotImplementedError):  # no hard links here
        if path.exists():
            raise FileExistsError(errno.EEXIST, "file exists (not replaced)", str(path)) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def temporary_name(path: Path) -> Path:
    return path.with_name(
        f".{path.name}.saving-{host_tag()}-{os.getpid()}-{secrets.token_hex(6)}.tmp"
    )


def _create_temporary(path: Path) -> tuple[int, Path]:
    # os.open with mode 0o666 lets the umask decide the permissions, as open() would
    # (mkstemp's 0o600 would make every saved model private to its owner).
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = temporary_name(path)
        with contextlib.suppress(FileExistsError):
            return os.open(tmp, flags, 0o666), tmp


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove the stale temporary files of earlier saves of ``path``; returns those removed.

    Also removes the unnamed ones older versions wrote (``.NAME.<12 hex digits>.tmp``) once
    they are ``STALE_SECONDS`` old.
    """
    ours = re.compile(rf"\.{re.escape(path.name)}\.saving-([A-Za-z0-9]+)-(\d+)-[0-9a-f]+\.tmp")
    old = re.compile(rf"\.{re.escape(path.name)}\.[0-9a-f]{{12}}\.tmp")
    removed = []
    try:
        candidates = [p for p in path.parent.iterdir() if p.name.startswith(f".{path.name}.")]
    except OSError:
        return removed
    me = host_tag()
    for p in candidates:
        m = ours.fullmatch(p.name)
        if m is None and not old.fullmatch(p.name):
            continue
        try:
            age = time.time() - p.stat().st_mtime
        except OSError:
            continue
        dead = m is not None and m[1] == me and not _running(int(m[2]))
        if dead or age > STALE_SECONDS:
            with contextlib.suppress(OSError):
                p.unlink()
                removed.append(p)
    return removed


def _running(pid: int) -> bool:
    if os.name != "posix":  # no cheap check: rely on the age rule
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # another user's process (or an absurd pid): leave its file alone
    return True
