"""Deterministic fuzzing of the loaders through the CLI: mutated sample schemas never crash or hang.

Every sample schema (Prisma and SQL) is mutated with a fixed seed: truncated at a random
point, random byte garbage, unbalanced quotes / parentheses / brackets / braces, 50,000-character
identifiers, 20,000-deep nesting, invalid UTF-8, control characters, shuffled lines and splices
of other samples (one to three mutations per input). Each input runs through `planner inspect`
and `planner diff` (against its unmutated partner) in-process with typer's CliRunner, inside
worker processes so a hang is caught per input (`CASE_TIMEOUT_S`) and a dying interpreter is
a finding, not a lost test run.

The contract checked for every run (README, "Exit codes"):

* the exit code is 0, 1 or 2 (no escaped exception, no signal);
* neither output holds "Traceback" or "internal error" (an unexpected exception the CLI
  turned into exit 2 is still a crash);
* exit 2 writes exactly ONE line, on stderr.

On failure the message gives the seed, each failing case's mutations, command line and an
excerpt of its input and output, and the folder where the failing inputs are kept; the same
seed regenerates the same inputs byte for byte. `PLANNER_FUZZ_SEED` and `PLANNER_FUZZ_CASES`
run another seed or a longer campaign (`PLANNER_FUZZ_CASES=5000 pytest tests/test_fuzz_inputs.py`).

Every crasher it found was fixed in product code; its minimal repro stays as a test
(FOUND_CRASHERS) that the input now gives a located error.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import random
import re
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path

import pytest

from .conftest import SAMPLES

SEED = int(os.environ.get("PLANNER_FUZZ_SEED", "20251204"))
#: inputs per run of the test: about 840 CLI runs, 10 s on 2 idle cores (30 s on a busy machine)
CASES = int(os.environ.get("PLANNER_FUZZ_CASES", "500"))
#: an input that takes longer than this is a hang
CASE_TIMEOUT_S = float(os.environ.get("PLANNER_FUZZ_TIMEOUT", "15"))
WORKERS = max(1, min(2, os.cpu_count() or 1))
LONG = 50_000
DEEP = 20_000

INVALID_UTF8 = (b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xa0\xa1", b"\xe2\x28\xa1", b"\xe2\x82",
                b"\xf0\x28\x8c\xbc", b"\xf8\xa1\xa1\xa1\xa1", b"\xed\xa0\x80", b"\xc0\xaf", b"\x80")
CONTROL = (b"\x00", b"\r", b"\r\n", b"\t", b"\x0b", b"\x0c", b"\x1b[31m", b"\x7f", "\u2028".encode(),
           "\u0085".encode(), "\ufeff".encode(), "\u202e".encode())
UNBALANCED = tuple(b"\"'`()[]{}")
IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")


# --------------------------------------------------------------------------- inputs

@dataclass(frozen=True, slots=True)
class Sample:
    path: Path
    partner: Path  # the other side of the pair (diff runs the mutated file against it)
    dialect: str | None  # --dialect for SQL samples

    @property
    def kind(self) -> str:
        return self.path.suffix.lstrip(".")


def samples() -> list[Sample]:
    out = []
    for folder in sorted(p for p in SAMPLES.iterdir() if p.is_dir()):
        for ext in ("prisma", "sql"):
            old, new = folder / f"old.{ext}", folder / f"new.{ext}"
            if old.is_file() and new.is_file():
                dialect = None
                if ext == "sql":
                    dialect = "mysql" if "ENGINE=" in old.read_text().upper().replace(" ", "") else "postgresql"
                out += [Sample(old, new, dialect), Sample(new, old, dialect)]
    return out


def _pos(rng: random.Random, data: bytes) -> int:
    return rng.randint(0, len(data))


def m_truncate(rng: random.Random, data: bytes, kind: str, others: list[bytes]) -> tuple[bytes, str]:
    at = _pos(rng, data)
    return data[:at], f"truncate@{at}"


def m_garbage(rng: random.Random, data: bytes, kind: str, others: list[bytes]) -> tuple[bytes, str]:
    notes = []
    for _ in range(rng.randint(1, 5)):
        at, n = _pos(rng, data), rng.randint(1, 64)
        junk = rng.randbytes(n)
        if rng.random() < 0.5:
            data = data[:at] + junk + data[at + n:]
            notes.append(f"overwrite@{at}+{n}")
        else:
            data = data[:at] + junk + data[at:]
            notes.append(f"insert@{at}+{n}")
    return data, "garbage(" + ",".join(notes) + ")"


def m_unbalance(rng: random.Random, data: bytes, kind: str, others: list[bytes]) -> tuple[bytes, str]:
    notes = []
    for _ in range(rng.randint(1, 3)):
        ch = rng.choice(UNBALANCED)
        where = [i for i, b in enumerate(data) if b == ch]
        if where and rng.random() < 0.5:
            at = rng.choice(where)
            data = data[:at] + data[at + 1:]
            notes.append(f"del {chr(ch)!r}@{at}")
        else:
            at = _pos(rng, data)
            data = data[:at] + bytes([ch]) * rng.choice((1, 1, 2, 3)) + data[at:]
            notes.append(f"ins {chr(ch)!r}@{at}")
    return data, "unbalance(" + ",".join(notes) + ")"


def m_long_identifier(rng: random.Random, data: bytes, kind: str, others: list[bytes]) -> tuple[bytes, str]:
    names = sorted({m.group() for m in IDENT.finditer(data)})
    if not names:
        return data + b" " + b"x" * LONG, "long-ident(appended)"
    name = rng.choice(names)
    long = (name + b"_" + bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(16)) * LONG)[:LONG]
    pattern = re.compile(rb"(?<![A-Za-z0-9_])" + re.escape(name) + rb"(?![A-Za-z0-9_])")
    if rng.random() < 0.6:  # every occurrence: a consistent rename, the schema may stay valid
        return pattern.sub(lambda _m: long, data), f"long-ident(all {name.decode(errors='replace')!r})"
    hits = list(pattern.finditer(data))
    m = rng.choice(hits)
    return data[:m.start()] + long + data[m.end():], f"long-ident({name.decode(errors='replace')!r}@{m.start()})"


def _nest_prisma(rng: random.Random, balanced: bool) -> tuple[bytes, bytes]:
    opener, closer = rng.choice(((b"[", b"]"), (b"f(", b")"), (b"(", b")"), (b"{", b"}"), (b"[f(", b")]")))
    return opener * DEEP, (closer * DEEP if balanced else b"")


def _nest_sql(rng: random.Random, balanced: bool) -> tuple[bytes, bytes]:
    opener, closer = rng.choice(((b"(", b")"), (b"f(", b")"), (b"ARRAY[", b"]"), (b"(-", b")"),
                                 (b"NOT (", b")"), (b"CASE WHEN 1=1 THEN (", b") END"), (b"1 + (", b")"),
                                 (b"coalesce(", b", 1)")))
    return opener * DEEP, (closer * DEEP if balanced else b"")


def m_deep_nesting(rng: random.Random, data: bytes, kind: str, others: list[bytes]) -> tuple[bytes, str]:
    balanced = rng.random() < 0.5
    if kind == "prisma":
        open_, close = _nest_prisma(rng, balanced)
        spots = [m.end() for m in re.finditer(rb"@default\(|@@index\(\[|@relation\(", data)]
        tail = (b"\nmodel Deep {\n  id Int @id @default(", b")\n}\n")
    else:
        open_, close = _nest_sql(rng, balanced)
        spots = [m.end() for m in re.finditer(rb"(?i)DEFAULT |CHECK \(|\bON \w+ \(", data)]
        tail = (b"\nCREATE TABLE deep (id int DEFAULT ", b");\n")
    if spots and rng.random() < 0.7:  # where an expression is expected
        at = rng.choice(spots)
        out = data[:at] + open_ + b"1" + close + rng.choice((b"", b", ", b" ")) + data[at:]
    elif rng.random() < 0.5:  # a new block / table holding it
        at = len(data) + len(tail[0])
        out = data + tail[0] + open_ + b"1" + close + tail[1]
    else:  # anywhere
        at = _pos(rng, data)
        out = data[:at] + open_ + close + data[at:]
    return out, f"deep-nesting({open_[:12]!r}x{DEEP}@{at}, balanced={balanced})"


def m_bad_utf8(rng: random.Random, data: bytes, kind: str, others: list[bytes]) -> tuple[bytes, str]:
    r = rng.random()
    if r < 0.1:
        return data.decode("utf-8", errors="replace").encode("utf-16"), "utf-16"
    if r < 0.2:
        return data.decode("utf-8", errors="replace").encode("latin-1", errors="replace") + "é".encode("latin-1"), "latin-1"
    notes = []
    for _ in range(rng.randint(1, 3)):
        at, seq = _pos(rng, data), rng.choice(INVALID_UTF8)
        data = data[:at] + seq + data[at:]
        notes.append(f"{seq!r}@{at}")
    return data, "bad-utf8(" + ",".join(notes) + ")"


def m_control(rng: random.Random, data: bytes, kind: str, others: list[bytes]) -> tuple[bytes, str]:
    notes = []
    for _ in range(rng.randint(1, 4)):
        at, seq = _pos(rng, data), rng.choice(CONTROL)
        data = data[:at] + seq + data[at:]
        notes.append(f"{seq!r}@{at}")
    return data, "control(" + ",".join(notes) + ")"


def m_lines(rng: random.Random, data: bytes, kind: str, others: list[bytes]) -> tuple[bytes, str]:
    lines = data.split(b"\n")
    op = rng.choice(("delete", "duplicate", "swap", "shuffle-block"))
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    if op == "delete":
        del lines[i]
    elif op == "duplicate":
        lines.insert(j, lines[i])
    elif op == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    else:
        lo, hi = min(i, j), max(i, j) + 1
        block = lines[lo:hi]
        rng.shuffle(block)
        lines[lo:hi] = block
    return b"\n".join(lines), f"lines({op} {i},{j})"


def m_splice(rng: random.Random, data: bytes, kind: str, others: list[bytes]) -> tuple[bytes, str]:
    other = rng.choice(others)
    a, b = sorted((_pos(rng, other), _pos(rng, other)))
    at = _pos(rng, data)
    return data[:at] + other[a:b] + data[at:], f"splice({a}:{b}@{at})"


MUTATORS = (m_truncate, m_garbage, m_unbalance, m_long_identifier, m_deep_nesting, m_bad_utf8,
            m_control, m_lines, m_splice)
#: in the random mixes, the big inputs (hundreds of kB, up to ~2 s a run) come less often
WEIGHTS = (2, 2, 2, 1, 1, 2, 2, 2, 2)


@dataclass(slots=True)
class Case:
    index: int
    sample: Sample
    mutations: list[str]
    data: bytes
    path: Path | None = None
    runs: list[list[str]] = field(default_factory=list)


def make_cases(seed: int, count: int, folder: Path) -> list[Case]:
    """`count` mutated inputs, written to `folder`, each with its command lines (same seed, same bytes)."""
    rng = random.Random(seed)
    pool = samples()
    texts = {s.path: s.path.read_bytes() for s in pool}
    cases = []
    for i in range(count):
        s = pool[i % len(pool)] if i < len(pool) else rng.choice(pool)
        data, notes = texts[s.path], []
        # every mutator gets its turn in the first rounds; then random mixes of one to three
        first = [MUTATORS[(i // len(pool)) % len(MUTATORS)]] if i < len(pool) * len(MUTATORS) else []
        chain = first or rng.choices(MUTATORS, WEIGHTS, k=rng.choice((1, 1, 1, 2, 2, 3)))
        others = [t for p, t in texts.items() if p.suffix == s.path.suffix]
        for mutate in chain:
            data, note = mutate(rng, data, s.kind, others)
            notes.append(note)
        case = Case(i, s, notes, data)
        case.path = folder / f"case{i:05d}_{s.path.parent.name}_{s.path.stem}.{s.kind}"
        case.path.write_bytes(data)
        dialect = ["--dialect", s.dialect] if s.dialect and rng.random() < 0.8 else []
        fmt = ["-f", "json"] if rng.random() < 0.3 else []
        case.runs.append(["inspect", str(case.path), *dialect, *fmt])
        if rng.random() < 0.7:
            pair = [str(case.path), str(s.partner)] if rng.random() < 0.5 else [str(s.partner), str(case.path)]
            fmt = rng.choice(([], [], ["-f", "json"], ["-f", "markdown"]))
            case.runs.append(["diff", *pair, *dialect, *fmt])
        cases.append(case)
    return cases


# --------------------------------------------------------------------------- workers

def _worker(conn: Connection) -> None:
    """Run CLI invocations sent over `conn`; answer each with the facts the checks need."""
    from typer.testing import CliRunner

    from planner.cli import app

    runner = CliRunner()
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        key, args = job
        logging.root.handlers.clear()  # basicConfig in the CLI callback binds the runner's stream
        started = time.monotonic()
        r = runner.invoke(app, args)
        crash = None
        if r.exception is not None and not isinstance(r.exception, SystemExit):
            crash = "".join(traceback.format_exception(r.exception))[-3000:]
        out, err = r.stdout, r.stderr
        conn.send((key, {
            "exit": r.exit_code, "crash": crash, "seconds": round(time.monotonic() - started, 3),
            "stdout_head": out[:600], "stderr": err[:3000], "stderr_lines": len(err.rstrip("\n").split("\n")) if err else 0,
            "traceback": "Traceback" in out or "Traceback" in err,
            "internal": "internal error" in out or "internal error" in err,
        }))


class _Pool:
    """Worker processes, each running one CLI invocation at a time under a deadline."""

    def __init__(self, size: int, timeout_s: float) -> None:
        self.ctx = mp.get_context("spawn")  # a fresh interpreter: the stack depth of a real CLI run
        self.timeout_s = timeout_s
        self.workers = [self._start() for _ in range(size)]

    def _start(self) -> dict:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_worker, args=(child,), daemon=True)
        proc.start()
        child.close()
        return {"proc": proc, "conn": parent, "job": None, "deadline": None}

    def run(self, jobs: list[tuple[object, list[str]]]) -> dict[object, dict]:
        results: dict[object, dict] = {}
        pending = list(reversed(jobs))
        while pending or any(w["job"] for w in self.workers):
            for w in self.workers:
                if w["job"] is None and pending:
                    w["job"] = pending.pop()
                    w["conn"].send(w["job"])
                    w["deadline"] = time.monotonic() + self.timeout_s
            busy = [w for w in self.workers if w["job"] is not None]
            nearest = min(w["deadline"] for w in busy)
            ready = wait([w["conn"] for w in busy], timeout=max(0.0, nearest - time.monotonic()))
            for w in busy:
                if w["conn"] in ready:
                    try:
                        key, res = w["conn"].recv()
                    except (EOFError, OSError):  # the interpreter died (a signal, a C stack overflow)
                        w["proc"].join(5)
                        results[w["job"][0]] = {"exit": None, "died": w["proc"].exitcode}
                        self._replace(w)
                        continue
                    results[key] = res
                    w["job"] = None
                elif time.monotonic() >= w["deadline"]:
                    results[w["job"][0]] = {"exit": None, "hang": self.timeout_s}
                    self._replace(w)
        return results

    def _replace(self, w: dict) -> None:
        if w["proc"].is_alive():
            w["proc"].kill()
        w["proc"].join(5)
        w["conn"].close()
        w.update(self._start())

    def close(self) -> None:
        for w in self.workers:
            try:
                w["conn"].send(None)
            except (BrokenPipeError, OSError):
                pass
        for w in self.workers:
            w["proc"].join(5)
            if w["proc"].is_alive():
                w["proc"].kill()


def run_cases(cases: list[Case], timeout_s: float = CASE_TIMEOUT_S) -> dict[tuple[int, int], dict]:
    pool = _Pool(WORKERS, timeout_s)
    try:
        return pool.run([((c.index, n), args) for c in cases for n, args in enumerate(c.runs)])
    finally:
        pool.close()


# --------------------------------------------------------------------------- verdicts

def problems(res: dict) -> list[str]:
    """What breaks the CLI contract in one run's result (empty when it holds)."""
    if "hang" in res:
        return [f"hang: no answer within {res['hang']:.0f} s"]
    if "died" in res:
        return [f"the interpreter died (exit code {res['died']})"]
    out = []
    if res["crash"]:
        out.append("exception escaped the CLI:\n" + res["crash"])
    if res["exit"] not in (0, 1, 2):
        out.append(f"exit code {res['exit']}")
    if res["traceback"]:
        out.append("'Traceback' in the output")
    if res["internal"]:
        out.append("'internal error' in the output")
    if res["exit"] == 2 and res["stderr_lines"] != 1:
        out.append(f"exit 2 with {res['stderr_lines']} lines on stderr (one expected)")
    return out


def _excerpt(data: bytes, width: int = 300) -> str:
    if len(data) <= 2 * width:
        return repr(data)
    return f"{data[:width]!r} ... ({len(data)} bytes) ... {data[-width:]!r}"


def _describe(case: Case, args: list[str], res: dict, found: list[str]) -> str:
    lines = [f"case {case.index} from {case.sample.path.relative_to(SAMPLES)}: {' + '.join(case.mutations)}",
             f"  command: planner {' '.join(args)}",
             f"  input ({case.path}): {_excerpt(case.data)}"]
    lines += [f"  problem: {p}" for p in found]
    if res.get("stderr"):
        lines.append(f"  stderr: {res['stderr'][:600]!r}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- tests

def test_mutations_are_deterministic(tmp_path: Path):
    """The same seed gives the same inputs and command lines, byte for byte."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = make_cases(SEED, 40, tmp_path / "a"), make_cases(SEED, 40, tmp_path / "b")
    assert [(c.data, c.mutations) for c in a] == [(c.data, c.mutations) for c in b]
    assert [[x.replace("/a/", "/") for x in r] for c in a for r in c.runs] == \
           [[x.replace("/b/", "/") for x in r] for c in b for r in c.runs]
    kinds = {m.split("(")[0].split("@")[0] for c in make_cases(SEED, CASES, tmp_path / "a") for m in c.mutations}
    assert {"truncate", "garbage", "unbalance", "long-ident", "deep-nesting", "bad-utf8", "utf-16",
            "control", "lines", "splice"} <= kinds


def test_fuzzed_inputs_never_crash_or_hang(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("fuzz")
    cases = make_cases(SEED, CASES, folder)
    started = time.monotonic()
    results = run_cases(cases)
    elapsed = time.monotonic() - started
    failures, exits = [], {}
    for case in cases:
        for n, args in enumerate(case.runs):
            res = results[(case.index, n)]
            exits[res.get("exit")] = exits.get(res.get("exit"), 0) + 1
            found = problems(res)
            if not found:
                continue
            failures.append(_describe(case, args, res, found))
    runs = sum(len(c.runs) for c in cases)
    print(f"\nfuzz seed {SEED}: {len(cases)} inputs, {runs} runs in {elapsed:.1f} s; exit codes "
          f"{dict(sorted(exits.items(), key=str))}")
    assert not failures, (
        f"seed {SEED} (PLANNER_FUZZ_SEED={SEED} PLANNER_FUZZ_CASES={CASES} reproduces it): "
        f"{len(failures)} of {runs} runs broke the CLI contract; inputs kept in {folder}\n\n"
        + "\n\n".join(failures[:10]))
    assert len(results) == runs
    # the harness itself works: unmutated-enough inputs still load and diff (exit 0)
    assert exits.get(0, 0) >= runs // 20, exits


def test_a_hang_is_caught_and_the_worker_replaced(tmp_path: Path):
    """The per-input deadline works: a run over it is reported as a hang, the next one still runs."""
    cases = make_cases(SEED, 1, tmp_path)
    pool = _Pool(1, timeout_s=1e-6)
    try:
        first = pool.run([("slow", cases[0].runs[0])])
        pool.timeout_s = 60
        second = pool.run([("fine", cases[0].runs[0])])
    finally:
        pool.close()
    assert problems(first["slow"]) == ["hang: no answer within 0 s"]
    assert second["fine"]["exit"] in (0, 1, 2)


#: inputs this fuzzer once crashed the CLI with ("internal error"), now located parse errors
FOUND_CRASHERS = {
    # the Prisma parser recursed once per '[' or 'f(' with no depth limit (RecursionError)
    "prisma-deep-list": ("prisma", "model X {\n  id Int @id @default(" + "[" * 1000 + ")\n}\n", (),
                         r":2:\d+: values nested more than 100 deep"),
    "prisma-deep-call": ("prisma", "model X {\n  id Int @id @default(" + "f(" * 1000 + ")\n}\n", (),
                         r":2:\d+: values nested more than 100 deep"),
    # a MySQL ENUM/SET with broken quoting reached sqlglot unguarded (TokenError, ParseError)
    "mysql-enum-unterminated": ("sql", "CREATE TABLE t (a enum('x), b int);\n", ("--dialect", "mysql"),
                                r":1:17: column 'a': cannot read the values of"),
    "mysql-enum-modify": ("sql", "CREATE TABLE t (a int);\nALTER TABLE t MODIFY a enum('x,'y'z');\n",
                          ("--dialect", "mysql"), r":2:\d+: column 'a': cannot read the values of"),
}


@pytest.mark.parametrize("name", sorted(FOUND_CRASHERS))
def test_found_crasher_is_a_located_error(tmp_path: Path, name: str):
    """Each input the fuzzer once crashed the CLI with: now exit 2, one line, file:line:col."""
    suffix, repro, extra, expected = FOUND_CRASHERS[name]
    path = tmp_path / f"repro.{suffix}"
    path.write_text(repro)
    args = ["inspect", str(path), *extra]
    res = run_cases([Case(0, Sample(path, path, None), ["repro"], repro.encode(), path, [args])])[(0, 0)]
    assert not problems(res), res
    assert res["exit"] == 2, res
    assert re.search(expected, res["stderr"]), res["stderr"]
