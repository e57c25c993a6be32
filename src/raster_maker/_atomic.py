"""Atomic file creation: write under a temporary name, then move into place.

Every file raster_maker writes goes through :func:`atomic_path`, so a crash, a full
disk or a killed process never leaves a half-written file at the destination and
never touches a file that was there before.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "atomic_path",
    "check_destination",
    "temporary_name",
    "commit_temporary",
    "remove_stale_temporaries",
    "AtomicWriterMixin",
]

_TMP_TAG = ".raster_maker-tmp-"


def temporary_name(dest: str | os.PathLike) -> Path:
    """Return a fresh hidden temporary path in the same folder as ``dest``.

    Same folder, so the final :func:`os.replace` / :func:`os.link` is a rename on one
    file system (atomic) rather than a copy. The name holds the host and process id, so
    temporaries left by a killed process are recognised and removed (see
    :func:`remove_stale_temporaries`).
    """
    dest = Path(dest)
    remove_stale_temporaries(dest)
    return dest.with_name(f".{dest.name}{_TMP_TAG}{_HOST}-{os.getpid()}-{secrets.token_hex(4)}")


_HOST = socket.gethostname().replace("-", "_")


def remove_stale_temporaries(dest: str | os.PathLike) -> list[Path]:
    """Delete temporaries of ``dest`` left by dead processes of this host; return them."""
    dest = Path(dest)
    removed = []
    for tmp in dest.parent.glob(f".{dest.name}{_TMP_TAG}{_HOST}-*"):
        try:
            pid = int(tmp.name[len(f".{dest.name}{_TMP_TAG}{_HOST}-") :].split("-")[0])
        except ValueError:
            continue
        if pid == os.getpid() or _alive(pid):
            continue
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_destination(dest: str | os.PathLike, overwrite: bool) -> Path:
    """Refuse an existing destination unless ``overwrite`` is true.

    Raises
    ------
    FileExistsError
        If ``dest`` exists and ``overwrite`` is false.
    FileNotFoundError
        If the folder of ``dest`` does not exist.
    """
    dest = Path(dest)
    if dest.exists() and not overwrite:
        raise FileExistsError(
            f"Refusing to overwrite existing file '{dest}'. Pass overwrite=True "
            "(or --force on the command line) to replace it."
        )
    if not dest.parent.exists():
        raise FileNotFoundError(f"Output folder '{dest.parent}' does not exist.")
    return dest


def commit_temporary(tmp: str | os.PathLike, dest: str | os.PathLike, overwrite: bool) -> Path:
    """Move a finished temporary file to ``dest`` atomically.

    The data are flushed to disk first. Without ``overwrite`` the move uses
    :func:`os.link`, which fails if ``dest`` appeared meanwhile (no race can make
    us clobber a file another process wrote).
    """
    tmp, dest = Path(tmp), Path(dest)
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    if overwrite:
        os.replace(tmp, dest)
    else:
        try:
            os.link(tmp, dest)
        except FileExistsError:
            raise FileExistsError(
                f"Refusing to overwrite '{dest}', which appeared while it was being written. "
                "Pass overwrite=True to replace it."
            ) from None
        except OSError:  # file systems without hard links
            if dest.exists():
                raise FileExistsError(f"Refusing to overwrite existing file '{dest}'.") from None
            os.replace(tmp, dest)
            return dest
        os.unlink(tmp)
    _fsync_dir(dest.parent)
    return dest


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not supported everywhere; best effort
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Context manager yielding a temporary path that becomes ``dest`` on success.

    On an exception the temporary file is removed and ``dest`` is left as it was.

    Examples
    --------
    >>> with atomic_path("out.json", overwrite=True) as tmp:  # doctest: +SKIP
    ...     tmp.write_text("{}")
    """
    dest = check_destination(dest, overwrite)
    tmp = temporary_name(dest)
    try:
        yield tmp
        commit_temporary(tmp, dest, overwrite)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


class AtomicWriterMixin:
    """``with`` support for writers that commit on ``close()`` and discard on ``abort()``.

    Leaving the block normally closes (commits) the file; an exception aborts it, and
    so does garbage collection of a writer never closed (with a warning), so no
    temporary file outlives its writer.
    """

    closed = True
    path: Path

    def close(self) -> Path:  # pragma: no cover - provided by subclasses
        raise NotImplementedError

    def abort(self) -> None:  # pragma: no cover - provided by subclasses
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:
        if not getattr(self, "closed", True):
            logging.getLogger("raster_maker").warning(
                "%s for %s was never closed; discarding it.",
                type(self).__name__,
                getattr(self, "path", "?"),
            )
            self.abort()
