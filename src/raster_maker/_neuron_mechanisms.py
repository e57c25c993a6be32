"""Compile the NEURON mechanisms bionet needs for virtual (spike-train) nodes.

bionet plays input spike trains into the network through NEURON's ``VecStim`` artificial
cell, which is not built into NEURON: it comes from bmtk's ``vecevent.mod`` and has to be
compiled with ``nrnivmodl``.  :func:`ensure_vecstim` does that once per mechanisms folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["ensure_vecstim", "find_nrnivmodl", "vecevent_mod_path"]


def vecevent_mod_path() -> Path:
    """Return the path of ``vecevent.mod`` shipped with bmtk.

    Returns
    -------
    pathlib.Path
        ``<site-packages>/bmtk/utils/scripts/bionet/mechanisms/modfiles/vecevent.mod``.

    Raises
    ------
    FileNotFoundError
        If bmtk is not installed or does not ship the file.
    """
    import importlib.util

    spec = importlib.util.find_spec("bmtk")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("bmtk is not installed; cannot find vecevent.mod")
    root = Path(list(spec.submodule_search_locations)[0])
    path = root / "utils" / "scripts" / "bionet" / "mechanisms" / "modfiles" / "vecevent.mod"
    if not path.is_file():
        raise FileNotFoundError(f"vecevent.mod not found in the bmtk installation: {path}")
    return path


def find_nrnivmodl() -> Path:
    """Locate NEURON's ``nrnivmodl``: next to ``sys.executable`` first, then on ``PATH``.

    Returns
    -------
    pathlib.Path
        Path of the ``nrnivmodl`` executable.

    Raises
    ------
    FileNotFoundError
        If it cannot be found.
    """
    candidate = Path(sys.executable).parent / "nrnivmodl"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which("nrnivmodl")
    if found:
        return Path(found)
    raise FileNotFoundError(
        f"nrnivmodl not found next to {sys.executable} nor on PATH; install NEURON "
        "(pip install neuron)"
    )


def _compiled_library(mechanisms_dir: Path) -> Path | None:
    arch_dir = mechanisms_dir / platform.machine()
    for lib in (
        arch_dir / ".libs" / "libnrnmech.so",
        arch_dir / "libnrnmech.so",
        arch_dir / ".libs" / "libnrnmech.dylib",
        arch_dir / "libnrnmech.dylib",
    ):
        if lib.is_file():
            return lib
    return None


def _is_up_to_date(mechanisms_dir: Path, modfiles_dir: Path) -> bool:
    lib = _compiled_library(mechanisms_dir)
    if lib is None:
        return False
    arch_dir = mechanisms_dir / platform.machine()
    mods = sorted(modfiles_dir.glob("*.mod"))
    lib_mtime = lib.stat().st_mtime
    for mod in mods:
        # every mod file must have been translated, and not be newer than the library
        translated = [arch_dir / f"{mod.stem}{ext}" for ext in (".c", ".cpp")]
        if not any(p.exists() for p in translated):
            return False
        if mod.stat().st_mtime > lib_mtime:
            return False
    return True


def ensure_vecstim(mechanisms_dir, *, force: bool = False, verbose: bool = False) -> Path:
    """Make sure ``mechanisms_dir`` holds a compiled NEURON library with ``VecStim``.

    ``vecevent.mod`` is copied into ``<mechanisms_dir>/modfiles/`` (if not there yet) and
    ``nrnivmodl modfiles`` is run inside ``mechanisms_dir`` when the compiled library is
    missing or older than any ``.mod`` file in ``modfiles/``.  Other ``.mod`` files already in
    ``modfiles/`` are compiled along.  The result (``<mechanisms_dir>/<arch>/``, e.g.
    ``x86_64/``) is machine specific and should be git-ignored.  Concurrent calls on the same
    folder are serialised with a file lock.

    Parameters
    ----------
    mechanisms_dir : str or os.PathLike
        The folder given as ``components.mechanisms_dir`` in the bionet config.  Created if
        missing.
    force : bool, optional
        Recompile even if the library looks up to date.
    verbose : bool, optional
        Print ``nrnivmodl``'s output.

    Returns
    -------
    pathlib.Path
        The absolute mechanisms folder (what bionet's ``load_neuron_modules`` expects).

    Raises
    ------
    FileNotFoundError
        If bmtk's ``vecevent.mod`` or ``nrnivmodl`` cannot be found.
    RuntimeError
        If ``nrnivmodl`` fails; the message contains its output.
    """
    mechanisms_dir = Path(mechanisms_dir).resolve()
    modfiles_dir = mechanisms_dir / "modfiles"
    modfiles_dir.mkdir(parents=True, exist_ok=True)

    key = hashlib.sha1(str(mechanisms_dir).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"raster_maker-nrnivmodl-{key}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            target = modfiles_dir / "vecevent.mod"
            if not target.exists():
                shutil.copyfile(vecevent_mod_path(), target)
            if force or not _is_up_to_date(mechanisms_dir, modfiles_dir):
                cmd = [str(find_nrnivmodl()), "modfiles"]
                proc = subprocess.run(cmd, cwd=mechanisms_dir, capture_output=True, text=True)
                if verbose:
                    logging.getLogger("raster_maker").info("%s\n%s", proc.stdout, proc.stderr)
                if proc.returncode != 0 or _compiled_library(mechanisms_dir) is None:
                    raise RuntimeError(
                        f"nrnivmodl failed in {mechanisms_dir} (exit {proc.returncode}):\n"
                        f"{proc.stdout}\n{proc.stderr}"
                    )
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return mechanisms_dir
