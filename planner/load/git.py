"""`git:REV:PATH` sources: a schema file or folder (Prisma multi-file schema, migrations) as it
is in a git revision, read with git itself from the repository holding the working directory.

`planner diff git:origin/main:prisma/schema.prisma prisma/schema.prisma` compares the base
branch's schema with the working tree's. PATH is relative to the working directory, like the
other argument (as git's own `REV:./PATH`); an absolute PATH inside the repository works too.

The revision's file (`git cat-file blob`) or folder (`git archive REV:PATH`) is written once
per process into a private temporary folder and read by the loader that reads such a path from
the working tree; every message, warning and location then names `git:REV:PATH[/file]`, never
the temporary copy. The copies are removed when the process exits.
"""

from __future__ import annotations

import atexit
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import replace
from pathlib import Path, PurePosixPath

from planner.errors import ParseError, PlannerError, SourceError

PREFIX = "git:"
_USAGE = "write git:REV:PATH, e.g. git:origin/main:prisma/schema.prisma"

#: spec -> the local copy of what it names (one checkout per spec and process)
_COPIES: dict[str, Path] = {}
_ROOT: list[Path] = []


def is_git_source(spec: str) -> bool:
    return spec.startswith(PREFIX)


def split(spec: str) -> tuple[str, str]:
    """`git:REV:PATH` -> (REV, PATH). A ref name cannot hold `:`, so the first one ends REV."""
    rest = spec[len(PREFIX):]
    rev, sep, path = rest.partition(":")
    if not sep or not rev or not path:
        raise SourceError(f"{spec}: expected git:REV:PATH", hint=_USAGE)
    return rev, path


def _git(args: list[str], *, cwd: Path | str, binary: bool = False) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=not binary, check=False,
                              env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})
    except FileNotFoundError:
        raise SourceError("git: command not found", hint="install git to read git:REV:PATH sources") from None


def _first_line(text: str | bytes) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = [x.strip() for x in text.strip().splitlines() if x.strip()]
    return lines[0].removeprefix("fatal: ") if lines else "git failed"


def _repo_path(spec: str, path: str, cwd: Path) -> tuple[Path, str]:
    """(repository top level, PATH relative to it, in git's form)."""
    top = _git(["rev-parse", "--show-toplevel"], cwd=cwd)
    if top.returncode != 0:
        raise SourceError(f"{spec}: {cwd} is not inside a git repository",
                          hint="run planner in the repository, or give a file path")
    root = Path(top.stdout.strip())
    target = Path(path) if os.path.isabs(path) else cwd / path
    # normalise `..` and `.` without touching the file system (the path need not exist here)
    target = Path(os.path.normpath(target))
    try:
        rel = target.relative_to(os.path.normpath(root.resolve()))
    except ValueError:
        try:
            rel = target.relative_to(os.path.normpath(root))
        except ValueError:
            raise SourceError(f"{spec}: {path} is outside the repository at {root}") from None
    rel_text = PurePosixPath(*rel.parts).as_posix() if rel.parts else "."
    return root, rel_text


def _object_type(spec: str, rev: str, rel: str, root: Path) -> str:
    commit = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"], cwd=root)
    if commit.returncode != 0:
        raise SourceError(f"{spec}: unknown revision {rev!r} in {root}",
                          hint="a branch, tag or commit of this repository (fetch it first in a shallow CI clone)")
    kind = _git(["cat-file", "-t", f"{rev}:{rel}" if rel != "." else f"{rev}^{{tree}}"], cwd=root)
    if kind.returncode != 0:
        raise SourceError(f"{spec}: {rel} does not exist in {rev}")
    return kind.stdout.strip()


def _root() -> Path:
    if not _ROOT:
        _ROOT.append(Path(tempfile.mkdtemp(prefix="planner-git-")))
        atexit.register(shutil.rmtree, _ROOT[0], True)
    return _ROOT[0]


def checkout(spec: str, *, cwd: str | os.PathLike[str] | None = None) -> Path:
    """The local copy of what `git:REV:PATH` names (written on first use)."""
    if spec in _COPIES:
        return _COPIES[spec]
    rev, path = split(spec)
    here = Path(cwd or os.getcwd())
    root, rel = _repo_path(spec, path, here)
    kind = _object_type(spec, rev, rel, root)
    # the copy keeps PATH's name (a loader tells .prisma from .sql by it) in a folder of its own
    local = _root() / str(len(_COPIES)) / (PurePosixPath(rel).name if rel != "." else root.name)
    local.parent.mkdir(parents=True)
    if kind == "blob":
        blob = _git(["cat-file", "blob", f"{rev}:{rel}"], cwd=root, binary=True)
        if blob.returncode != 0:
            raise SourceError(f"{spec}: {_first_line(blob.stderr)}")
        local.write_bytes(blob.stdout)
    elif kind == "tree":
        tree = f"{rev}:{rel}" if rel != "." else f"{rev}^{{tree}}"
        archive = _git(["archive", "--format=tar", tree], cwd=root, binary=True)
        if archive.returncode != 0:
            raise SourceError(f"{spec}: {_first_line(archive.stderr)}")
        local.mkdir()
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            _extract(tar, local)
    else:
        raise SourceError(f"{spec}: {rel} is a {kind} in {rev}, not a file or folder")
    _COPIES[spec] = local
    return local


def _extract(tar: tarfile.TarFile, into: Path) -> None:
    """Regular files and folders only, inside `into` (what tarfile's "data" filter allows)."""
    if hasattr(tarfile, "data_filter"):
        tar.extractall(into, filter="data")
        return
    members = [m for m in tar.getmembers() if (m.isfile() or m.isdir())
               and not os.path.isabs(m.name) and ".." not in PurePosixPath(m.name).parts]
    tar.extractall(into, members=members)  # noqa: S202 - members checked above (Python < 3.11.4)


def relabel_text(text: str, local: Path, spec: str) -> str:
    """`text` with the local copy's path replaced by the `git:REV:PATH` it stands for."""
    return text.replace(str(local), spec.rstrip("/"))


def relabel_error(e: PlannerError, local: Path, spec: str) -> PlannerError:
    """The same error, naming `git:REV:PATH` where it named the local copy."""
    e.args = tuple(relabel_text(a, local, spec) if isinstance(a, str) else a for a in e.args)
    if e.hint:
        e.hint = relabel_text(e.hint, local, spec)
    if isinstance(e, ParseError):
        e.location = replace(e.location, file=relabel_text(e.location.file, local, spec))
    return e


def local_copy(spec: str) -> Path | None:
    """The local copy of a `git:` source this process has read (None if none)."""
    return _COPIES.get(spec)


__all__ = ["checkout", "is_git_source", "local_copy", "relabel_error", "relabel_text", "split"]
