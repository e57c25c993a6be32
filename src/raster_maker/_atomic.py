"""Atomic file creation: write under a temporary name, then move into place.

Every file raster_maker writes goes through :func:`atomic_path` or a writer built on
:class:`AtomicWriterMixin`, so a crash, a full disk or a killed process never leaves a
half-written file at the destination and never touches a file that was there before.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import secrets
import socket
import sys
import warnings
import weakref
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "atomic_path",
    "check_destination",
    "temporary_name",
    "commit_temporary",
    "remove_stale_temporaries",
    "AtomicWriterMixin",
    "UnclosedWriterWarning",
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


class UnclosedWriterWarning(UserWarning):
    """A writer was let go without ``close()`` (see :class:`AtomicWriterMixin`)."""


class AtomicWriterMixin:
    """``with`` support for writers that commit on ``close()`` and discard on ``abort()``.

    Leaving the block normally closes (commits) the file; an exception aborts it. What
    happens to a writer never closed depends on the class:

    - by default (``SpikesWriter``) garbage collection aborts it, with a logged warning, so
      no temporary file outlives its writer;
    - a writer that called :meth:`_commit_when_let_go` in its ``__init__`` (the legacy
      ``SonataWriter``, whose scripts never close it) is *committed* as ``close()`` would,
      when it is garbage-collected or still open at interpreter exit, unless an exception is
      in flight: one propagating or being handled when the writer is collected (other than
      one already being handled where the writer was made), or the uncaught exception that
      ends a script. Then it is aborted and the destination left as it was. An exception
      that was caught and handled is no longer in flight: a writer let go after that is
      committed (Python does not tell a finalizer that an exception passed through).
      ``sys.exit()`` is an ordinary exit. Either way an :class:`UnclosedWriterWarning` says
      that ``close()`` was not called and what was done, pointing at the line that made
      the writer.

    A killed process runs neither, so the destination is untouched as with any crash.
    """

    closed = True
    path: Path
    _created_at: tuple[str, int] | None = None  # set by _commit_when_let_go
    _handled_at_creation = id(None)

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

    def _commit_when_let_go(self) -> None:
        """Commit rather than discard this writer if it is let go without ``close()``."""
        self._created_at = _creation_site()
        # an exception already being handled where the writer is made (it is made in an
        # except block) is not one that unwinds through the code holding it
        self._handled_at_creation = id(sys.exc_info()[1])
        _LET_GO.add(self)
        _register_at_exit()

    def _let_go(self, event: str, exception_in_flight: str | None) -> None:
        """Commit (or, with an exception in flight, abort) an unclosed writer, then warn."""
        _LET_GO.discard(self)
        name, (filename, lineno) = type(self).__name__, self._created_at or ("?", 0)
        head = f"{name} for '{self.path}' (created at {filename}:{lineno}) {event} without close()"
        if exception_in_flight is not None:
            self.abort()
            what = f"{exception_in_flight}, so it was discarded and '{self.path}' left as it was"
        else:
            try:
                self.close()
            except Exception as err:  # a finalizer must not raise: report it in the warning
                with contextlib.suppress(Exception):
                    self.abort()
                what = f"writing it failed ({err}), so it was discarded"
            else:
                what = "its data were written and the file moved into place, as close() does"
        warnings.warn_explicit(
            f"{head}; {what}. Call close() or use `with {name}(...) as w:`.",
            UnclosedWriterWarning,
            filename,
            lineno,
        )

    def __del__(self) -> None:
        if getattr(self, "closed", True):
            return
        if self._created_at is not None:
            exc = sys.exc_info()[1]
            in_flight = None
            if exc is not None and id(exc) != self._handled_at_creation:
                in_flight = f"{type(exc).__name__} was in flight"
            self._let_go("was garbage-collected", in_flight)
            return
        logging.getLogger("raster_maker").warning(
            "%s for %s was never closed; discarding it.",
            type(self).__name__,
            getattr(self, "path", "?"),
        )
        self.abort()


# writers to commit or abort at interpreter exit if they are still open then
_LET_GO: weakref.WeakSet[AtomicWriterMixin] = weakref.WeakSet()
_AT_EXIT: list[bool] = []  # registered yet?


def _register_at_exit() -> None:
    # registered at the first writer, after h5py: atexit runs last-registered first, so
    # the writers are finished while h5py is still whole
    if not _AT_EXIT:
        atexit.register(_let_go_at_exit)
        _AT_EXIT.append(True)


def _uncaught_exception() -> BaseException | None:
    """The uncaught exception that is ending this script, if any.

    Python keeps it in ``sys.last_exc`` (3.12+) / ``sys.last_value`` once it has printed
    its traceback, before the exit handlers run. An interactive session (``python -i``,
    IPython, Jupyter) keeps the last error *shown* there too, but that error was caught by
    the session, which went on: it does not count.
    """
    if hasattr(sys, "ps1") or sys.flags.interactive:
        return None
    exc = getattr(sys, "last_exc", None)
    return exc if exc is not None else getattr(sys, "last_value", None)


def _let_go_at_exit() -> None:
    exc = _uncaught_exception()
    in_flight = None if exc is None else f"the uncaught {type(exc).__name__} ended the script"
    first_error: BaseException | None = None
    for writer in list(_LET_GO):
        if writer.closed:
            continue
        try:
            writer._let_go("was still open at interpreter exit", in_flight)
        except BaseException as err:  # e.g. the warning made an error: finish the others first
            first_error = first_error or err
    if first_error is not None:
        raise first_error


def _creation_site() -> tuple[str, int]:
    """File and line of the innermost caller outside this package."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:  # pragma: no cover - always called from outside the package
        return ("<unknown>", 0)
    return (frame.f_code.co_filename, frame.f_lineno)


_PACKAGE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "")
