"""Kill `alembic upgrade head` at a random moment, re-run it, downgrade: nothing may be lost.

    python bench/kill_runs.py                       # 25 runs, 30,000 rows per table, seed 1
    python bench/kill_runs.py --seed 7 --runs 1     # replay run "seed 7" of any earlier table
    python bench/kill_runs.py --pairs centurion --runs 5 --rows 2000

For each run (all choices from `random.Random(run seed)`, run seed = --seed + run number):

1. the sample pair: `PAIRS[run seed % len(PAIRS)]` (or among --pairs); its staged revisions
   come from `planner plan OLD NEW --init DIR --rev-id-seed x` (the CLI, in a subprocess);
2. a scratch database holding OLD seeded with --rows rows per table. OLD is built and seeded
   (seed --data-seed, the same for every run) once per pair by planner verify's own code
   (`build_schema`, `seed_database`) into a template database, and each run's scratch
   database is a `CREATE DATABASE ... TEMPLATE` copy of it (the same rows, seconds instead of
   minutes). Every table's rows are checksummed (`table_checksums`, as verify does) before
   the upgrade;
3. `alembic upgrade head` runs in a subprocess and is killed at a random moment: the RNG
   picks one of the plan's revisions (each equally likely) and a moment uniformly inside the
   time that revision took in one uninterrupted upgrade of the same pair (on another copy of
   the template), counted from alembic's "Running upgrade" line for it; and the kind:
   SIGKILL of the alembic process, or `pg_terminate_backend` of its backend;
4. `alembic upgrade head` again, to completion; the database must diff to zero changes
   against NEW (`load_database` + `diff`, as `planner verify` does);
5. `alembic downgrade base`; the database must diff to zero against OLD, and every table's
   rows must equal the checksums taken in step 2.

Prints one line per run (seed, pair, kill point, kill kind, the revision that was running
and the statement its backend was executing, outcome) and a summary; exits 1 if any run
failed. Needs a PostgreSQL server (--url, an admin URL: it creates and drops databases
named kill_*).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_schemas"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
APP_NAME = "planner-kill-run"
KINDS = ("sigkill", "terminate")


@dataclass(frozen=True, slots=True)
class Pair:
    name: str
    folder: str
    #: planner config for the plan (TOML text), e.g. where a removed enum value's rows go
    config: str = ""
    #: what the plan does, for the README table
    steps: str = ""


PAIRS = (
    Pair("centurion", "centurion-money-enum-unique",
         '[enum_remap]\n"Role.COACH" = "CLIENT"\n',
         "ADD VALUE; float -> numeric(10,2) by new column + sync trigger + batched backfill + "
         "NOT VALID check + VALIDATE + SET NOT NULL + swap (R8); COACH rows remapped in batches and backed "
         "up, enum recreated; unique index built CONCURRENTLY; old index dropped CONCURRENTLY"),
    Pair("indexes", "aegira-indexes-soft-delete", "",
         "6 nullable columns; 4 indexes built CONCURRENTLY (a re-run drops INVALID leftovers)"),
    Pair("relation", "aegira-event-checkin-relation", "",
         "3 columns added, 3 indexes CONCURRENTLY; a foreign key dropped, its unique column dropped "
         "with a backup"),
    Pair("snapshot", "aegira-missed-checkin-snapshot", "",
         "15 columns holding data dropped, each backed up for the downgrade"),
    Pair("webhook", "mais-webhook-idempotency", "",
         "enum ADD VALUE; unique (tenantId, eventId) built CONCURRENTLY"),
    Pair("medspa", "medspa-waitlist", "",
         "2 enums and a table created; 15 indexes, those on existing tables CONCURRENTLY"),
)


# --------------------------------------------------------------------------- databases

class Server:
    def __init__(self, admin_url: str) -> None:
        # pooled: watching pg_stat_activity every few milliseconds must not open a connection each time
        self.admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.base = self.admin.url

    def url(self, database: str, **query: str) -> str:
        return self.base.set(database=database, query=query).render_as_string(hide_password=False)

    def create(self, name: str, template: str | None = None) -> str:
        with self.admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            c.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def drop(self, name: str) -> None:
        with self.admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def backends(self, database: str) -> list[tuple[int, str, str]]:
        """(pid, state, query) of the alembic run's connections to `database`."""
        with self.admin.connect() as c:
            return [tuple(r) for r in c.execute(sa.text(
                "SELECT pid, coalesce(state, ''), coalesce(query, '') FROM pg_stat_activity "
                "WHERE datname = :d AND application_name = :a ORDER BY backend_start"),
                {"d": database, "a": APP_NAME})]

    def terminate(self, pids: list[int]) -> int:
        with self.admin.connect() as c:
            return sum(bool(c.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": p}).scalar()) for p in pids)

    def dispose(self) -> None:
        self.admin.dispose()


# --------------------------------------------------------------------------- a prepared pair

@dataclass(slots=True)
class Prepared:
    pair: Pair
    old_spec: str
    new_spec: str
    project: Path
    template: str
    old: object  # planner.model.Schema
    new: object
    seeded: int = 0
    labels: dict[str, str] = field(default_factory=dict)  # revision id -> "expand 1/2", ...
    #: (revision id, seconds it ran) of the uninterrupted upgrade, in order
    spans: list[tuple[str, float]] = field(default_factory=list)
    error: str | None = None

    @property
    def calibrated_s(self) -> float:
        return sum(d for _, d in self.spans)


def _specs(pair: Pair) -> tuple[str, str]:
    folder = SAMPLES / pair.folder
    old, new = next(folder.glob("old.*")), next(folder.glob("new.*"))
    return str(old.relative_to(ROOT)), str(new.relative_to(ROOT))


def _alembic(project: Path, url: str, *args: str, log: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url}
    cmd = [sys.executable, "-m", "alembic", "-c", str(project / "alembic.ini"), *args]
    if log is None:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    with open(log, "w") as out:  # the child keeps its own copy of the file descriptor
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)


def _finish(proc: subprocess.Popen, timeout_s: float) -> int:
    try:
        return proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return -999


def _tail(log: Path, n: int = 400) -> str:
    text = log.read_text(errors="replace").strip() if log.exists() else ""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return (lines[-1] if lines else "")[-n:]


def _started(log: Path) -> list[str]:
    """Revisions alembic has started so far, in order (its 'Running upgrade A -> B' lines)."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return [b for _a, b in re.findall(r"Running upgrade (\w*) -> (\w+)", text)]


def prepare(pair: Pair, server: Server, workdir: Path, rows: int, seed: int, tag: str) -> Prepared:
    from planner.load import load_source
    from planner.verify.checksum import row_counts
    from planner.verify.harness import build_schema
    from planner.verify.seed import seed_database

    old_spec, new_spec = _specs(pair)
    project = workdir / pair.name
    cmd = [sys.executable, "-m", "planner", "plan", old_spec, new_spec, "--init", str(project),
           "--rev-id-seed", "x", "-q"]
    if pair.config:
        cfg = workdir / f"{pair.name}.toml"
        cfg.write_text(pair.config)
        cmd += ["--config", str(cfg)]
    prep = Prepared(pair, old_spec, new_spec, project, f"kill_{tag}_{pair.name}_tmpl",
                    load_source(old_spec).schema, load_source(new_spec).schema)
    planned = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if planned.returncode != 0:
        prep.error = f"planner plan exit {planned.returncode}: {planned.stderr.strip()[-300:]}"
        return prep
    for f in (project / "migrations" / "versions").glob("*.py"):
        text = f.read_text()
        rev = re.search(r"^revision(?:: str)? = ['\"](\w+)['\"]", text, re.M)
        doc = re.match(r'\s*"""([^:\n]+):', text)
        if rev:
            prep.labels[rev.group(1)] = doc.group(1).strip() if doc else f.stem
    url = server.create(prep.template)
    build_schema(url, prep.old)
    seed_database(url, prep.old, rows=rows, seed=seed)
    prep.seeded = sum(row_counts(url, prep.old).values())
    # one uninterrupted upgrade on a copy: how long each revision runs (the kill windows), and
    # proof that the plan applies to the seeded rows at all
    scratch = f"kill_{tag}_{pair.name}_calib"
    try:
        server.create(scratch, template=prep.template)
        log = workdir / f"{pair.name}.calibrate.log"
        proc = _alembic(project, server.url(scratch, application_name=APP_NAME), "upgrade", "head", log=log)
        seen: dict[str, float] = {}
        connected, end, checked = False, None, 0.0
        while proc.poll() is None:  # the log is read every millisecond, the server every 10 ms
            now = time.monotonic()
            for rev in _started(log):
                seen.setdefault(rev, now)
            if now - checked >= 0.01:
                checked = now
                up = bool(server.backends(scratch))
                if connected and not up:
                    end = now
                    break
                connected = connected or up
            time.sleep(0.001)
        code = _finish(proc, 1800)
        end = end or time.monotonic()
        for rev in _started(log):
            seen.setdefault(rev, end)
        order = list(seen)
        prep.spans = [(rev, max(0.0, (seen[order[i + 1]] if i + 1 < len(order) else end) - seen[rev]))
                      for i, rev in enumerate(order)]
        if code != 0:
            prep.error = f"uninterrupted upgrade failed (exit {code}): {_tail(log)}"
        elif not prep.spans:
            prep.error = "uninterrupted upgrade ran no revision"
    finally:
        server.drop(scratch)
    return prep


# --------------------------------------------------------------------------- one run

@dataclass(slots=True)
class Run:
    number: int
    seed: int
    pair: str
    kind: str
    target: str  # the revision the kill aims at
    offset: float  # seconds into that revision
    kill_at: float = 0.0  # seconds after the upgrade's connection appeared
    running: str = ""
    statement: str = ""
    rerun_s: float = 0.0
    outcome: str = "ok"

    @property
    def ok(self) -> bool:
        return self.outcome == "ok" or self.outcome.startswith("ok ")

    @property
    def mid_upgrade(self) -> bool:
        return self.running not in ("", "(finished)") and self.statement != "(disconnected)"


def _statement(rows: list[tuple[int, str, str]]) -> str:
    if not rows:
        return "(disconnected)"
    _pid, state, query = rows[0]
    words = " ".join(query.split())
    return f"{state}: {words[:44]}" if state else words[:44]


def _statement_kind(statement: str) -> str:
    """'active: CREATE UNIQUE INDEX CONCURRENTLY ...' -> 'CREATE UNIQUE INDEX', 'idle: COMMIT' -> 'COMMIT'."""
    words = statement.split(": ", 1)[-1].split(" ")
    if words[0] not in ("CREATE", "DROP", "ALTER"):
        return words[0]
    for i, w in enumerate(words[1:5], 1):
        if w in ("TABLE", "INDEX", "FUNCTION", "TRIGGER", "TYPE", "SCHEMA", "VIEW", "CONSTRAINT"):
            return " ".join(words[:i + 1])
    return " ".join(words[:2])


def choose(rng: random.Random, prep: Prepared) -> tuple[str, int, float]:
    """The kill: its kind, the revision it hits (each equally likely) and how far into it
    (uniform over the revision's calibrated duration)."""
    kind = rng.choice(KINDS)
    k = rng.randrange(len(prep.spans)) if prep.spans else 0
    offset = rng.random() * (prep.spans[k][1] if prep.spans else 0.0)
    return kind, k, offset


def one_run(number: int, run_seed: int, prep: Prepared, server: Server, workdir: Path, tag: str) -> Run:
    from planner.diff import diff
    from planner.load.database import load_database
    from planner.verify.checksum import compare_checksums, table_checksums

    kind, k, offset = choose(random.Random(run_seed), prep)
    target = prep.spans[k][0] if prep.spans else ""
    run = Run(number, run_seed, prep.pair.name, kind, prep.labels.get(target, target), round(offset, 2))
    if prep.error:
        run.outcome = f"FAIL prepare: {prep.error}"
        return run
    scratch = f"kill_{tag}_run{number}"
    url = server.create(scratch, template=prep.template)
    try:
        before = table_checksums(url, prep.old)
        log = workdir / f"run{number}.upgrade.log"
        proc = _alembic(prep.project, server.url(scratch, application_name=APP_NAME), "upgrade", "head", log=log)
        t0 = t_target = None
        checked = 0.0
        while proc.poll() is None:  # wait for the target revision to start, then for the offset
            now = time.monotonic()
            if t0 is None and now - checked >= 0.01:
                checked = now
                t0 = now if server.backends(scratch) else None
            if t_target is None and target in _started(log):
                t_target = now
            if t_target is not None and now >= t_target + offset:
                break
            time.sleep(0.001)
        killed = False
        if proc.poll() is None:
            backends = server.backends(scratch)
            started = _started(log)
            run.kill_at = round(time.monotonic() - (t0 or t_target), 2)
            run.running = prep.labels.get(started[-1], started[-1]) if started else "(none yet)"
            run.statement = _statement(backends)
            if kind == "terminate" and backends:
                killed = server.terminate([b[0] for b in backends]) > 0
            if not killed:  # SIGKILL, or the connection closed a moment ago: kill the process
                proc.send_signal(signal.SIGKILL)
                run.kind, killed = ("sigkill" if kind == "sigkill" else "sigkill*"), True
        code = _finish(proc, 1800)
        if not killed:
            run.running = "(finished)"
            if code != 0:
                run.outcome = f"FAIL upgrade exit {code}: {_tail(log)}"
                return run
            run.outcome = "ok (finished before the kill)"
        elif code == 0:
            run.outcome = "ok (exit 0 despite the kill)"
        # the re-run must complete
        t = time.monotonic()
        rerun_log = workdir / f"run{number}.rerun.log"
        code = _finish(_alembic(prep.project, url, "upgrade", "head", log=rerun_log), 1800)
        run.rerun_s = round(time.monotonic() - t, 1)
        if code != 0:
            run.outcome = f"FAIL re-run exit {code}: {_tail(rerun_log)}"
            return run
        left = [c.id for c in diff(load_database(url).schema, prep.new).changes]
        if left:
            run.outcome = f"FAIL after the re-run, {len(left)} change(s) from NEW: {', '.join(left[:4])}"
            return run
        down_log = workdir / f"run{number}.downgrade.log"
        code = _finish(_alembic(prep.project, url, "downgrade", "base", log=down_log), 1800)
        if code != 0:
            run.outcome = f"FAIL downgrade exit {code}: {_tail(down_log)}"
            return run
        left = [c.id for c in diff(load_database(url).schema, prep.old).changes]
        if left:
            run.outcome = f"FAIL after the downgrade, {len(left)} change(s) from OLD: {', '.join(left[:4])}"
            return run
        lost = compare_checksums(before, table_checksums(url, prep.old))
        if lost:
            run.outcome = f"FAIL rows not restored: {'; '.join(lost[:3])}"
        return run
    except Exception as e:  # noqa: BLE001 - a run that breaks the harness is a failed run, not a crash
        run.outcome = f"FAIL {type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"
        return run
    finally:
        server.drop(scratch)


# --------------------------------------------------------------------------- main

def _table(runs: list[Run]) -> str:
    head = ("run", "seed", "pair", "kind", "aimed at", "kill at s", "running revision", "its backend was",
            "re-run s", "outcome")
    rows = [(str(r.number), str(r.seed), r.pair, r.kind, f"{r.target} +{r.offset:.2f}s", f"{r.kill_at:.2f}" if r.running != "(finished)" else "-",
             r.running, r.statement, f"{r.rerun_s:.1f}", r.outcome) for r in runs]
    widths = [max(len(h), *(len(x[i]) for x in rows)) if rows else len(h) for i, h in enumerate(head)]
    widths[-1] = len(head[-1])
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*head), fmt.format(*("-" * w for w in widths)),
                      *(fmt.format(*x).rstrip() for x in rows)])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=1, help="first run's seed; run i uses seed+i (default 1)")
    p.add_argument("--runs", type=int, default=25, help="number of runs (default 25)")
    p.add_argument("--rows", type=int, default=30_000, help="seeded rows per table of OLD (default 30000)")
    p.add_argument("--data-seed", type=int, default=0,
                   help="seed of the generated rows (default 0; independent of --seed, so one run replays alone)")
    p.add_argument("--url", default=os.environ.get("PLANNER_TEST_PG", DEFAULT_URL),
                   help=f"PostgreSQL admin URL (default {DEFAULT_URL})")
    p.add_argument("--pairs", default=",".join(x.name for x in PAIRS),
                   help="comma-separated pairs to draw from (default: all): "
                        + ", ".join(x.name for x in PAIRS))
    p.add_argument("--keep", action="store_true", help="keep the work folder (projects and alembic logs)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    by_name = {x.name: x for x in PAIRS}
    chosen = [by_name[n] for n in args.pairs.split(",") if n]  # KeyError names a bad pair
    server = Server(args.url)
    tag = uuid.uuid4().hex[:6]
    workdir = Path(tempfile.mkdtemp(prefix="planner-kill-runs-"))
    prepared: dict[str, Prepared] = {}
    runs: list[Run] = []
    started = time.monotonic()
    try:
        for i in range(args.runs):
            run_seed = args.seed + i
            pair = chosen[run_seed % len(chosen)]
            if pair.name not in prepared:
                t = time.monotonic()
                prep = prepared[pair.name] = prepare(pair, server, workdir, args.rows, args.data_seed, tag)
                spans = ", ".join(f"{prep.labels.get(r, r)} {d:.2f}" for r, d in prep.spans)
                print(f"prepared {pair.name}: {len(prep.labels)} revisions, {prep.seeded} rows seeded; "
                      f"uninterrupted upgrade {prep.calibrated_s:.2f} s ({spans}); took {time.monotonic() - t:.0f} s"
                      + (f"; {prep.error}" if prep.error else ""), flush=True)
            run = one_run(i, run_seed, prepared[pair.name], server, workdir, tag)
            runs.append(run)
            print(f"run {i} seed {run_seed} {run.pair}: {run.kind} aimed at {run.target} +{run.offset:.2f} s, "
                  f"at {run.kill_at:.2f} s ({run.running}; {run.statement}) -> {run.outcome}", flush=True)
    finally:
        for prep in prepared.values():
            server.drop(prep.template)
        server.dispose()
        if not args.keep:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"work folder kept: {workdir}")
    print()
    print(_table(runs))
    failed = [r for r in runs if not r.ok]
    mid = [r for r in runs if r.mid_upgrade]
    kinds = {k: sum(r.kind == k for r in mid) for k in KINDS}
    revs = sorted({(r.pair, r.running) for r in mid})
    statements: dict[str, int] = {}
    for r in mid:
        what = _statement_kind(r.statement)
        statements[what] = statements.get(what, 0) + 1
    after = sum(r.statement == "(disconnected)" for r in runs)
    finished = sum(r.running == "(finished)" for r in runs)
    print(f"\n{len(runs)} runs in {time.monotonic() - started:.0f} s ({args.rows} rows per table, seed {args.seed}): "
          f"{len(mid)} killed mid-upgrade ({kinds['sigkill']} SIGKILL, {kinds['terminate']} pg_terminate_backend) "
          f"in {len(revs)} different revisions, while its backend ran "
          f"{', '.join(f'{k} x{n}' for k, n in sorted(statements.items(), key=lambda x: (-x[1], x[0])))}; "
          f"{after} killed after the last commit, {finished} finished before the kill")
    print(f"{len(runs) - len(failed)} of {len(runs)} re-ran to NEW and downgraded with every row restored; "
          f"{len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
