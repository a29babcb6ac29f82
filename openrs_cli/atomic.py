"""Write files whole or not at all: a temporary file in the same folder, then an atomic rename.

A set of files that belong together (a prepared dataset) is written into a hidden staging folder and
swapped in whole (`replace_folder`). Files get the permissions the umask gives (not mkstemp's 0600),
so a team on a shared cluster can read each other's results.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openrs_cli import faults
from openrs_cli.errors import BadInputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


UMASK = _umask()


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~UMASK)
        faults.tick("write")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: Path, data: Any) -> Path:
    return write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def write_bytes_via(path: Path, writer) -> Path:
    """Let `writer(tmp_path)` produce the file (e.g. parquet, PNG), then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
    os.close(fd)
    try:
        writer(Path(tmp))
        os.chmod(tmp, 0o666 & ~UMASK)
        faults.tick("write")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def clean_temporaries(folder: Path) -> None:
    """Remove the hidden temporary files a killed write left in `folder` (`.NAME.XXXX.tmp...`)."""
    if folder.is_dir():
        for stale in folder.glob(".*.tmp*"):
            with contextlib.suppress(OSError):
                stale.unlink()


def _clean_stale(folder: Path) -> None:
    """Leftovers of a run killed mid-swap: staging folders go; a set moved aside comes back if it is all there is."""
    parent = folder.parent
    for stale in parent.glob(f".{folder.name}.staging-*"):
        shutil.rmtree(stale, ignore_errors=True)
    for old in sorted(parent.glob(f".{folder.name}.old-*")):
        if not folder.exists():
            os.replace(old, folder)
        else:
            shutil.rmtree(old, ignore_errors=True)


def _refuse_foreign(folder: Path, owned: set[str]) -> None:
    if folder.exists():
        foreign = [] if folder.is_dir() else [folder.name]
        if folder.is_dir():
            foreign = [p.name for p in folder.iterdir() if p.name not in owned and not p.name.startswith(".")]
        if foreign:
            raise BadInputError(
                f"{folder} holds files openrs did not write ({', '.join(sorted(foreign)[:3])})",
                "choose a new or empty output folder",
            )


def check_replaceable(folder: Path, owned: set[str], option: str) -> None:
    """What `replace_folder` would refuse, found before any work is spent: files that are not openrs's in
    `folder`, or a parent folder where the staging folder cannot be made."""
    _refuse_foreign(folder, owned)
    ensure_writable(folder.parent, option)


@contextlib.contextmanager
def replace_folder(folder: Path, owned: set[str]) -> Iterator[Path]:
    """Yield a staging folder; when the block ends without error, it becomes `folder` in one rename.

    `folder` may hold only files named in `owned` (or hidden ones): anything else is the user's, and
    the swap would throw it away, so that is refused before anything is written.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    _clean_stale(folder)
    _refuse_foreign(folder, owned)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.staging-", dir=folder.parent))
    os.chmod(staging, 0o777 & ~UMASK)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = folder.parent / f".{folder.name}.old-{os.getpid()}"
    faults.tick("swap")  # 1: the staging folder is filled
    if folder.exists():
        os.replace(folder, old)
    faults.tick("swap")  # 2: the old set moved aside, the new one not yet in place
    os.replace(staging, folder)
    faults.tick("swap")  # 3: the new set in place, the old one not yet deleted
    shutil.rmtree(old, ignore_errors=True)


def ensure_writable(folder: Path, option: str) -> Path:
    """Prove a file can be written in `folder` before any work is spent; leaves nothing behind (folders
    it had to create for the probe are removed again)."""
    created = []
    probe_dir = folder
    while not probe_dir.exists() and probe_dir != probe_dir.parent:
        created.append(probe_dir)
        probe_dir = probe_dir.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".openrs-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise BadInputError(
            f"{option} {folder} is not writable ({reason})", "choose a folder you can write to"
        ) from exc
    finally:
        for path in created:
            with contextlib.suppress(OSError):
                path.rmdir()
    return folder


@contextlib.contextmanager
def folder_lock(folder: Path, what: str) -> Iterator[None]:
    """Hold `folder`'s lock while working in it: a second openrs on the same folder stops at once with one
    line instead of redoing the same work beside the first (the lock goes with the process, even on a kill)."""
    import fcntl

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ".openrs.lock"
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise BadInputError(
                f"{folder} is in use by another openrs {what} ({holder})",
                "wait for it to finish, or give another --output-dir",
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
