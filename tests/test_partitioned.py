"""Partitioned tables on PostgreSQL: CREATE INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY,
ADD CONSTRAINT ... USING INDEX and NOT VALID foreign keys are refused there, so plans that
used them failed at `upgrade head` where the naive DDL works, and verify passed them (it built
the table as a plain one). verify now builds a partitioned table with partitions (one of them
partitioned itself), and plans build an index partition by partition, online."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from planner.cli import app
from planner.load.ddl import load_sql_text

from .test_verify_oracle import _verify

pytestmark = pytest.mark.postgres

BASE = """CREATE TABLE orgs (id int PRIMARY KEY);
CREATE TABLE events (id bigint NOT NULL, at timestamptz NOT NULL, kind text, org_id int, n int,
    PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE INDEX events_n_idx ON events (n);
"""


def test_the_model_knows_a_partitioned_table():
    schema = load_sql_text(BASE, dialect="postgresql").schema
    assert schema.table("events").partition_by == "RANGE (at)"
    assert schema.table("orgs").partition_by is None


@pytest.mark.parametrize("new", [
    BASE + "CREATE INDEX events_kind_idx ON events (kind);\n",
    BASE + "CREATE UNIQUE INDEX events_kind_at ON events (kind, at);\n",
    BASE + "ALTER TABLE events ADD CONSTRAINT events_u UNIQUE (id, at, kind);\n",
    BASE + "ALTER TABLE events ADD CONSTRAINT events_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id);\n",
    BASE.replace("CREATE INDEX events_n_idx ON events (n);", "CREATE INDEX events_n_idx ON events (n, kind);"),
    BASE.replace("CREATE INDEX events_n_idx ON events (n);\n", ""),
    BASE.replace("n int", "n bigint"),
    # no key: R8's batches walk the pages of every leaf, rows of two leaves share ctids
    BASE + "CREATE TABLE logs (at timestamptz NOT NULL, n bigint, msg text) PARTITION BY RANGE (at);\n",
], ids=["index", "unique-index", "unique-constraint", "foreign-key", "redefined-index", "drop-index",
        "type-change", "type-change-without-a-key"])
def test_verify_proves_plans_on_a_partitioned_table(tmp_path: Path, pg_url: str, new: str):
    """Each of these failed at `upgrade head` (0A000 cannot create index on partitioned table
    concurrently, USING INDEX not supported, cannot add NOT VALID foreign key on partitioned
    table, cannot drop partitioned index concurrently) while verify, building a plain table,
    passed it."""
    old = BASE + ("CREATE TABLE logs (at timestamptz NOT NULL, n int, msg text) PARTITION BY RANGE (at);\n"
                  if "logs" in new else "")
    report = _verify(tmp_path, old, new, pg_url, rows=0 if "FOREIGN" in new else 20)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential)


def _alembic(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    db = sa.make_url(url).render_as_string(hide_password=False)
    return subprocess.run([sys.executable, "-m", "alembic", "-c", str(tmp_path / "p" / "alembic.ini"),
                           "-x", f"db={db}", *args], capture_output=True, text=True, timeout=300)


def _partition_tree(pg_url: str, base: str = BASE) -> sa.Engine:
    """`base` with 300,000 rows in a partition and a partition with two hash partitions."""
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        for stmt in base.split(";")[:-1]:
            c.exec_driver_sql(stmt)
        c.exec_driver_sql("CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') "
                          "TO ('2026-01-01')")
        c.exec_driver_sql("CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') "
                          "TO ('2027-01-01') PARTITION BY HASH (id)")
        for r_ in (0, 1):
            c.exec_driver_sql(f"CREATE TABLE events_2026_h{r_} PARTITION OF events_2026 "
                              f"FOR VALUES WITH (MODULUS 2, REMAINDER {r_})")
        c.exec_driver_sql("INSERT INTO events SELECT g, timestamptz '2025-01-01' + g * interval '2 minutes', "
                          "'k' || mod(g, 50), NULL, g FROM generate_series(1, 300000) g")
    return engine


def _upgrade_under_writers(tmp_path: Path, pg_url: str, engine: sa.Engine) -> tuple:
    """`upgrade head` while a writer inserts into two partitions (one of them partitioned):
    the result, how long it took, the writer's errors and its slowest insert."""
    stop, errors, slowest = threading.Event(), [], [0.0]

    def writer() -> None:
        n = 1_000_000
        with engine.connect() as c:
            while not stop.is_set():
                n += 1
                for at in ("2025-06-01", "2026-06-01"):
                    t0 = time.monotonic()
                    try:
                        c.exec_driver_sql(f"INSERT INTO events (id, at, kind) VALUES ({n}, '{at}', 'w')")
                    except sa.exc.DBAPIError as e:
                        errors.append(str(e.orig).splitlines()[0])
                    slowest[0] = max(slowest[0], time.monotonic() - t0)
                time.sleep(0.002)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    t0 = time.monotonic()
    up = _alembic(tmp_path, pg_url, "upgrade", "head")
    took = time.monotonic() - t0
    stop.set()
    t.join(10)
    return up, took, errors, slowest[0]


def test_an_index_is_built_partition_by_partition_while_writers_go_on(tmp_path: Path, pg_url: str):
    """The index is created ON ONLY the parent, built CONCURRENTLY on each leaf (a partition
    that has partitions gets its own ON ONLY index and its leaves theirs), each attached; it
    ends valid, writers into every partition go on throughout (none waits the length of a
    build), and the downgrade drops it with every partition's index."""
    (tmp_path / "old.sql").write_text(BASE)
    (tmp_path / "new.sql").write_text(BASE + "CREATE INDEX events_kind_idx ON events (kind);\n")
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--init",
                                 str(tmp_path / "p"), "--rev-id-seed", "t", "-q"])
    assert r.exit_code == 0, r.output
    engine = _partition_tree(pg_url)
    up, took, errors, slowest = _upgrade_under_writers(tmp_path, pg_url, engine)
    assert up.returncode == 0, up.stderr[-2000:]
    assert errors == [], errors[:3]
    # a plain CREATE INDEX blocks every insert for the whole build; the writers here waited
    # at most a short catalog step (the ON ONLY index, an ATTACH)
    assert slowest < max(0.5, took / 4), (slowest, took)
    tree = ("SELECT c.relname, i.indisvalid FROM pg_partition_tree('events_kind_idx') t JOIN pg_class c "
            "ON c.oid = t.relid JOIN pg_index i ON i.indexrelid = t.relid ORDER BY 1")
    with engine.connect() as c:
        assert c.exec_driver_sql(tree).all() == [
            ("events_2025_events_kind_idx", True), ("events_2026_events_kind_idx", True),
            ("events_2026_h0_events_2026_events_kind_idx", True), ("events_2026_h1_events_2026_events_kind_idx", True),
            ("events_kind_idx", True)]
        assert c.exec_driver_sql("SELECT count(*) FROM events WHERE kind = 'k7'").scalar() == 6000
    down = _alembic(tmp_path, pg_url, "downgrade", "base")
    assert down.returncode == 0, down.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM pg_class WHERE strpos(relname, 'events_kind_idx') > 0").scalar() == 0
    engine.dispose()


def test_diff_gives_the_safe_way_of_a_partitioned_table(tmp_path: Path):
    """LK101/LK102/LK105/LK107 advised CONCURRENTLY, USING INDEX and NOT VALID, which the server
    refuses on a partitioned table."""
    (tmp_path / "old.sql").write_text(BASE)
    (tmp_path / "new.sql").write_text(
        BASE.replace("CREATE INDEX events_n_idx ON events (n);\n", "")
        + "CREATE INDEX events_kind_idx ON events (kind);\n"
        + "ALTER TABLE events ADD CONSTRAINT events_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id);\n")
    r = CliRunner().invoke(app, ["diff", str(tmp_path / "old.sql"), str(tmp_path / "new.sql")])
    out = " ".join(r.output.split())
    assert "-> A partitioned table takes no CONCURRENTLY: CREATE INDEX ... ON ONLY the table" in out, out
    assert "-> A partitioned table's index cannot be dropped CONCURRENTLY" in out, out
    assert "-> A partitioned table takes no NOT VALID foreign key" in out, out
    assert "CREATE INDEX CONCURRENTLY outside a transaction" not in out, out


LOGS = "CREATE TABLE logs (day date NOT NULL, msg text) PARTITION BY LIST (day);\n"


@pytest.mark.parametrize(("old", "new", "column"), [
    (BASE, BASE.replace("at timestamptz NOT NULL", "at timestamp NOT NULL"), "events.at"),
    (LOGS, LOGS.replace("day date NOT NULL, ", ""), "logs.day"),
])
def test_a_partition_key_column_is_refused_in_one_line(tmp_path: Path, old: str, new: str, column: str):
    """PostgreSQL refuses to change the type of a partition key column or to drop it, whatever
    the route (`cannot alter column "at" because it is part of the partition key`): the plan
    was written and failed at `upgrade`, as the naive DDL does. planner now stops with one line
    saying what works instead; a column outside the key still plans."""
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"),
                                 "--init", str(tmp_path / "p")])
    assert r.exit_code == 2, r.output
    errors = [line for line in r.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"{column}: it is part of the table's partition key (PARTITION BY " in errors[0], \
        r.output
    assert "Traceback" not in r.output
    (tmp_path / "new.sql").write_text(old.replace("msg text", "msg varchar(9)").replace("n int", "n bigint"))
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"),
                                 "--init", str(tmp_path / "q")])
    assert r.exit_code == 0, r.output


def test_a_unique_constraint_is_built_partition_by_partition_while_writers_go_on(tmp_path: Path, pg_url: str):
    """A UNIQUE constraint on a partitioned table was added in place (the server refuses ADD
    CONSTRAINT ... USING INDEX there): its index was built under the lock on every partition
    while every insert waited. It is built online now: on each leaf a unique index built
    concurrently and made the leaf's constraint, then each partitioned level's ADD CONSTRAINT,
    which adopts them (no build). Writers go on, every level ends with its constraint on a
    valid unique index, and the downgrade's DROP CONSTRAINT removes the whole tree."""
    (tmp_path / "old.sql").write_text(BASE)
    # (every level's partition key in it: `at`, and `id` of the hash-partitioned partition)
    (tmp_path / "new.sql").write_text(BASE + "ALTER TABLE events ADD CONSTRAINT events_n_at_key UNIQUE (n, id, at);\n")
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--init",
                                 str(tmp_path / "p"), "--rev-id-seed", "t", "-q"])
    assert r.exit_code == 0, r.output
    assert "rt.partitioned_unique(" in "".join(p.read_text() for p in (tmp_path / "p").rglob("*.py"))
    engine = _partition_tree(pg_url)
    up, took, errors, slowest = _upgrade_under_writers(tmp_path, pg_url, engine)
    assert up.returncode == 0, up.stderr[-2000:]
    assert errors == [], errors[:3]
    assert slowest < max(0.5, took / 4), (slowest, took)
    tree = ("SELECT conrelid::regclass::text, conname, conparentid <> 0 FROM pg_constraint WHERE contype = 'u' "
            "AND conrelid::regclass::text LIKE 'events%%' ORDER BY 1")
    with engine.connect() as c:
        assert c.exec_driver_sql(tree).all() == [
            ("events", "events_n_at_key", False), ("events_2025", "events_2025_events_n_at_key", True),
            ("events_2026", "events_2026_events_n_at_key", True),
            ("events_2026_h0", "events_2026_h0_events_2026_events_n_at_key", True),
            ("events_2026_h1", "events_2026_h1_events_2026_events_n_at_key", True)]
        assert c.exec_driver_sql("SELECT count(*), bool_and(i.indisvalid AND i.indisunique) FROM pg_constraint k "
                                 "JOIN pg_index i ON i.indexrelid = k.conindid WHERE k.contype = 'u' "
                                 "AND k.conname LIKE '%%events_n_at_key'").one() == (5, True)
    down = _alembic(tmp_path, pg_url, "downgrade", "base")
    assert down.returncode == 0, down.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql(tree).all() == []
    engine.dispose()


def test_a_foreign_key_is_built_partition_by_partition_while_writers_go_on(tmp_path: Path, pg_url: str):
    """A foreign key on a partitioned table (which takes no NOT VALID foreign key) was added in
    place: every row of every partition checked under SHARE ROW EXCLUSIVE while writes waited.
    It is built online now: NOT VALID and VALIDATE on each leaf, then each partitioned level's
    ADD CONSTRAINT adopts its partitions' keys without a scan. Writers go on, every level ends
    with the validated key under the naive statement's name, an orphan is refused in every
    partition, and the downgrade's DROP CONSTRAINT removes the whole tree."""
    (tmp_path / "old.sql").write_text(BASE)
    (tmp_path / "new.sql").write_text(
        BASE + "ALTER TABLE events ADD CONSTRAINT events_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) "
               "ON DELETE SET NULL;\n")
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--init",
                                 str(tmp_path / "p"), "--rev-id-seed", "t", "-q"])
    assert r.exit_code == 0, r.output
    assert "rt.partitioned_fk(" in "".join(p.read_text() for p in (tmp_path / "p").rglob("*.py"))
    engine = _partition_tree(pg_url)
    with engine.connect() as c:
        c.exec_driver_sql("INSERT INTO orgs SELECT generate_series(1, 100)")
        c.exec_driver_sql("UPDATE events SET org_id = 1 + mod(n, 100)")
        c.exec_driver_sql("VACUUM ANALYZE events")
    up, took, errors, slowest = _upgrade_under_writers(tmp_path, pg_url, engine)
    assert up.returncode == 0, up.stderr[-2000:]
    assert errors == [], errors[:3]
    assert slowest < max(0.5, took / 4), (slowest, took)
    tree = ("SELECT conrelid::regclass::text, conname, convalidated, conparentid <> 0 FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid::regclass::text LIKE 'events%%' ORDER BY 1")
    with engine.connect() as c:
        assert c.exec_driver_sql(tree).all() == [
            ("events", "events_org_fk", True, False), ("events_2025", "events_org_fk", True, True),
            ("events_2026", "events_org_fk", True, True), ("events_2026_h0", "events_org_fk", True, True),
            ("events_2026_h1", "events_org_fk", True, True)]
        for at in ("2025-03-01", "2026-03-01"):
            with pytest.raises(sa.exc.IntegrityError):
                c.exec_driver_sql(f"INSERT INTO events (id, at, org_id) VALUES (-1, '{at}', 999)")
        c.exec_driver_sql("DELETE FROM orgs WHERE id = 7")  # ON DELETE SET NULL, as declared
        assert c.exec_driver_sql("SELECT count(*) FROM events WHERE org_id = 7").scalar() == 0
    down = _alembic(tmp_path, pg_url, "downgrade", "base")
    assert down.returncode == 0, down.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql(tree).all() == []
    engine.dispose()


NO_KEY = BASE.replace(",\n    PRIMARY KEY (id, at))", ")")


@pytest.mark.parametrize("nullable", [False, True], ids=["not-null-columns", "nullable-columns"])
def test_verify_proves_a_primary_key_of_a_partitioned_table(tmp_path: Path, pg_url: str, nullable: bool):
    old = NO_KEY.replace("id bigint NOT NULL", "id bigint") if nullable else NO_KEY
    report = _verify(tmp_path, old, BASE, pg_url, rows=0 if nullable else 20)  # (seeded NULLs stop the guard)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential)


@pytest.mark.parametrize("nullable", [False, True], ids=["not-null-columns", "nullable-columns"])
def test_a_primary_key_is_built_partition_by_partition_while_writers_go_on(tmp_path: Path, pg_url: str,
                                                                           nullable: bool):
    """A primary key added to a partitioned table was added in place: its index built under
    the lock on every partition while every insert waited. It is built online now: on each leaf
    a unique index built concurrently and made the leaf's key, then each partitioned level's ADD
    PRIMARY KEY adopts them (no build), in expand; where a key column was nullable, in contract,
    after its SET NOT NULL (through a validated check). Every level ends with its key on a valid
    index, named as the naive statement names them; the downgrade removes the whole tree."""
    old = NO_KEY.replace("id bigint NOT NULL", "id bigint") if nullable else NO_KEY
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(BASE)
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "--init",
                                 str(tmp_path / "p"), "--rev-id-seed", "t", "-q"])
    assert r.exit_code == 0, r.output
    revisions = {p.name: p.read_text() for p in (tmp_path / "p" / "migrations" / "versions").glob("*.py")}
    assert [n for n, text in revisions.items() if "rt.partitioned_pk(" in text][0].split("_")[1] == (
        "contract" if nullable else "expand"), sorted(revisions)
    engine = _partition_tree(pg_url, old)
    up, took, errors, slowest = _upgrade_under_writers(tmp_path, pg_url, engine)
    assert up.returncode == 0, up.stderr[-2000:]
    assert errors == [], errors[:3]
    assert slowest < max(0.5, took / 4), (slowest, took)
    tree = ("SELECT conrelid::regclass::text, conname, conparentid <> 0, i.indisvalid FROM pg_constraint k "
            "JOIN pg_index i ON i.indexrelid = k.conindid WHERE k.contype = 'p' "
            "AND conrelid::regclass::text LIKE 'events%%' ORDER BY 1")
    with engine.connect() as c:
        assert c.exec_driver_sql(tree).all() == [
            ("events", "events_pkey", False, True), ("events_2025", "events_2025_pkey", True, True),
            ("events_2026", "events_2026_pkey", True, True), ("events_2026_h0", "events_2026_h0_pkey", True, True),
            ("events_2026_h1", "events_2026_h1_pkey", True, True)]
        with pytest.raises(sa.exc.IntegrityError):
            c.exec_driver_sql("INSERT INTO events (id, at) VALUES (1, timestamptz '2025-01-01' + interval '2 minutes')")
    down = _alembic(tmp_path, pg_url, "downgrade", "base")
    assert down.returncode == 0, down.stderr[-2000:]
    with engine.connect() as c:
        assert c.exec_driver_sql(tree).all() == []
    engine.dispose()
