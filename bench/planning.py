"""Planning benchmark: `planner diff` / `planner inspect` against Prisma's own schema engine.

Whole processes, CPU time (user + system of the child), the median of N runs; planner and
Prisma runs alternate so a busy neighbour on a shared machine hits both alike. Run it through
`bench/run` (it installs `@prisma/schema-engine-wasm` and sets NODE_PATH); never part of pytest.

Cases:
* real: the corpus's Prisma schemas (../shared/corpus, or PLANNER_CORPUS): each project's
  latest schema from empty, and each project's newest old -> new pair;
* fixed cost: empty -> empty;
* synthetic N models (100 .. 5,000; ~1% of the models changed in NEW): diff OLD NEW;
* SQL DDL: `planner inspect` of the CREATE SQL Prisma writes for the N-model schema, against
  Prisma's empty -> schema of the same models.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("PLANNER_CORPUS", ROOT.parent / "shared" / "corpus"))
PRISMA_JS = ROOT / "bench" / "prisma_diff.mjs"
SIZES = (100, 500, 1000, 2000, 5000)


def synthetic_prisma(n: int, changed_every: int = 0) -> str:
    """N models in a chain of relations, an enum, indexes, defaults and native types. With
    `changed_every`, every such model gets a new column and loses an index (~1% at 100)."""
    out = ['datasource db {\n  provider = "postgresql"\n}\n',
           "enum Status {\n  ACTIVE\n  PAUSED\n  GONE\n}\n"]
    for i in range(n):
        changed = changed_every and i % changed_every == 0
        rel = (f"  parentId  Int?\n  parent    M{i - 1}? @relation(fields: [parentId], references: [id], "
               "onDelete: Cascade)\n" if i else "")
        back = f"  children  M{i + 1}[]\n" if i < n - 1 else ""
        extra = "  note      String?  @db.Text\n" if changed else ""
        index = "" if changed else "  @@index([createdAt])\n"
        out.append(
            f"model M{i} {{\n"
            "  id        Int      @id @default(autoincrement())\n"
            "  name      String   @unique @db.VarChar(200)\n"
            "  status    Status   @default(ACTIVE)\n"
            "  createdAt DateTime @default(now())\n"
            "  updatedAt DateTime @updatedAt\n"
            "  score     Decimal? @db.Decimal(10, 2)\n"
            "  flags     Int      @default(0)\n"
            "  active    Boolean  @default(true)\n"
            f"{extra}{rel}{back}\n{index}  @@index([status, name])\n}}\n")
    return "\n".join(out)


def cpu(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[-400:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    return (f"{model or platform.processor()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, node {node}; planner at {commit}")


def _load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5, help="runs per tool and case (median); big cases use 3")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="synthetic model counts")
    ap.add_argument("--planner", default=shutil.which("planner") or "planner", help="the planner executable")
    ap.add_argument("--out", help="write the results table (Markdown) here")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",") if x]
    env = dict(os.environ)
    node = ["node", str(PRISMA_JS)]
    work = Path(tempfile.mkdtemp(prefix="planner-bench-"))
    load_before = _load_average()
    rows: list[tuple[str, str, float, float]] = []

    def measure(group: str, case: str, planner_cmd: list[str], prisma_cmd: list[str], repeat: int) -> None:
        p_times, q_times = [], []
        for _ in range(repeat):
            p_times.append(cpu(planner_cmd, env, work))
            q_times.append(cpu(prisma_cmd, env, work))
        p, q = statistics.median(p_times), statistics.median(q_times)
        rows.append((group, case, p, q))
        print(f"{group:10} {case:58} planner {p:7.3f}s  prisma {q:7.3f}s  ratio {p / q:5.2f}", flush=True)

    planner = [args.planner]
    measure("fixed", "empty -> empty", [*planner, "diff", "empty", "empty"], [*node, "empty", "empty"],
            args.repeat)
    if CORPUS.is_dir():
        for latest in sorted(CORPUS.glob("prisma/*/latest.prisma")):
            project = latest.parent.name
            measure("real", f"empty -> {project}/latest.prisma ({latest.stat().st_size // 1024} KB)",
                    [*planner, "diff", "empty", str(latest)], [*node, "empty", str(latest)], args.repeat)
            pairs = sorted(p for p in latest.parent.glob("[0-9]*") if (p / "old.prisma").is_file())
            if pairs:
                pair = pairs[-1]
                measure("real", f"{project}/{pair.name[:36]} old -> new",
                        [*planner, "diff", str(pair / "old.prisma"), str(pair / "new.prisma")],
                        [*node, str(pair / "old.prisma"), str(pair / "new.prisma")], args.repeat)
    else:
        print(f"corpus not found at {CORPUS}: real schemas skipped (set PLANNER_CORPUS)", file=sys.stderr)
    for n in sizes:
        old, new = work / f"m{n}.prisma", work / f"m{n}_new.prisma"
        old.write_text(synthetic_prisma(n))
        new.write_text(synthetic_prisma(n, changed_every=100))
        rep = args.repeat if n <= 1000 else 3
        measure("synthetic", f"{n} models, ~1% changed: diff old -> new", [*planner, "diff", str(old), str(new)],
                [*node, str(old), str(new)], rep)
    for n in sizes:
        old = work / f"m{n}.prisma"
        sql = work / f"m{n}.sql"
        sql.write_text(subprocess.run([*node, "empty", str(old)], capture_output=True, text=True, env=env,
                                      check=True).stdout)
        rep = args.repeat if n <= 1000 else 3
        measure("sql", f"inspect Prisma's CREATE SQL, {n} tables (vs Prisma empty -> schema)",
                [*planner, "inspect", str(sql), "--dialect", "postgresql"], [*node, "empty", str(old)], rep)
    shutil.rmtree(work, ignore_errors=True)

    lines = ["| group | case | planner CPU s | Prisma CPU s | planner / Prisma |", "|---|---|---:|---:|---:|"]
    lines += [f"| {g} | {c} | {p:.3f} | {q:.3f} | {p / q:.2f} |" for g, c, p, q in rows]
    by = {(g, c.split(" ")[0]): p for g, c, p, q in rows if g in ("synthetic", "sql")}
    growth = []
    if ("synthetic", "1000") in by and ("synthetic", "5000") in by:
        growth.append(f"synthetic diff: 5,000 vs 1,000 models = {by[('synthetic', '5000')] / by[('synthetic', '1000')]:.2f}x")
    sql_rows = [(c, p) for g, c, p, q in rows if g == "sql"]
    if len(sql_rows) >= 2:
        p1 = next((p for c, p in sql_rows if ", 1000 tables" in c), None)
        p5 = next((p for c, p in sql_rows if ", 5000 tables" in c), None)
        if p1 and p5:
            growth.append(f"sql inspect: 5,000 vs 1,000 tables = {p5 / p1:.2f}x")
    real = [p / q for g, c, p, q in rows if g == "real"]
    if real:
        growth.append(f"goal diff <= 0.5x Prisma on the real corpus schemas: worst {max(real):.2f}x "
                      f"({'met' if max(real) <= 0.5 else 'NOT met'})")
    for g, c, p, q in rows:
        if g == "synthetic" and c.startswith("5000 "):
            growth.append(f"goal diff <= 1.0x at 5,000 models: {p / q:.2f}x ({'met' if p <= q else 'NOT met'})")
        if g == "sql" and ", 5000 tables" in c:
            growth.append(f"goal inspect of 5,000-table SQL <= 1.0x Prisma's empty -> schema: {p / q:.2f}x "
                          f"({'met' if p <= q else 'NOT met'})")
    table = "\n".join(lines)
    print()
    print(table)
    for g in growth:
        print(g)
    if args.out:
        from results import replace_section

        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        replace_section(
            Path(args.out), "planning",
            f"<!-- written by bench/run on {stamp} -->\n\nMachine: {machine()}\n\n"
            f"Command: `bench/run {' '.join(sys.argv[1:]).replace(str(ROOT) + '/', '')}`. Medians of "
            f"{args.repeat} alternating runs (3 for 2,000+ models), whole-process CPU time (user + system); "
            "Prisma is `@prisma/schema-engine-wasm` run offline from node (bench/prisma_diff.mjs). "
            f"Load average (1, 5, 15 min) {load_before} at the start, {_load_average()} at the end "
            "(the machine is shared: CPU time, not wall time, and alternating runs).\n\n" + table + "\n\n" + "\n".join(f"- {g}" for g in growth) + "\n")


if __name__ == "__main__":
    main()
