"""verify's differential oracle on MySQL/MariaDB: the naive `ALTER TABLE .. MODIFY` runs on
copies of the tables in a sibling database (`<scratch>__naive`, dropped at the end), under
`time_zone = '+00:00'` and a strict sql_mode, and every value the plan leaves in NEW must equal
its; the OLD application writes boundary values during the window on a `-04:00` session."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from planner.config import load_config
from planner.load import load_source
from planner.model import Column
from planner.pipeline import analyze
from planner.verify import oracle
from planner.verify.harness import VerifyReport, verify

from .conftest import ROOT


def _verify(tmp_path: Path, old: str, new: str, url: str, rows: int = 20) -> VerifyReport:
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    analysis = analyze(str(tmp_path / "old.sql"), str(tmp_path / "new.sql"),
                       config=load_config(None, cwd=ROOT), dialect="mysql", renames=[])
    return verify(analysis, url, rows=rows)


def _siblings(url: str) -> list[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return [n for n in conn.exec_driver_sql("SHOW DATABASES").scalars() if n.endswith("__naive")]
    finally:
        engine.dispose()


def _verify_datetime_pair(tmp_path: Path, url: str) -> VerifyReport:
    """`datetime -> timestamp` and back, `date -> timestamp` (R8 on MariaDB: shadow column,
    triggers, backfill, swap)."""
    return _verify(tmp_path, "CREATE TABLE ev (id int NOT NULL, at datetime DEFAULT NULL, ts timestamp NULL DEFAULT "
                             "NULL, d date DEFAULT NULL, PRIMARY KEY (id));\n",
                   "CREATE TABLE ev (id int NOT NULL, at timestamp NULL DEFAULT NULL, ts datetime DEFAULT NULL, "
                   "d timestamp NULL DEFAULT NULL, PRIMARY KEY (id));\n", url)


@pytest.mark.mysql
def test_datetime_to_timestamp_converts_as_utc_whoever_writes(tmp_path: Path, mysql_url: str):
    """R8's trigger `SET NEW.at__planner_new = NEW.at` converted a row the application wrote
    during the window in the application's session zone (-04:00), and the batches in the
    migration's (-04:00 too, under verify), where the naive ALTER under UTC (planner's
    convention: wall-clock times are UTC) reads it as UTC: the oracle showed the 4 hours
    (`the plan gives 2024-07-01T16:00:00, the naive ALTER 2024-07-01T12:00:00`), the round trip
    agreed with itself. The plan converts with CONVERT_TZ from/to UTC now, both ways."""
    report = _verify_datetime_pair(tmp_path, mysql_url)
    assert report.compared_naive
    assert report.ok, (report.differential, report.after_upgrade, report.after_downgrade, report.data, report.window)
    note = next(n for n in report.notes if n.startswith("differential:"))
    assert "3 converted columns compared with the naive ALTER" in note, note
    assert oracle.sibling_name(sa.make_url(mysql_url).database or "") not in _siblings(mysql_url)


@pytest.mark.mysql
def test_widenings_equal_the_naive_modify(tmp_path: Path, mysql_url: str):
    """varchar(20) -> varchar(40), int -> bigint, double -> decimal(12,2): every value the plan
    leaves (the window's boundary writes included) equals the naive MODIFY's."""
    report = _verify(tmp_path,
                     "CREATE TABLE t (id int NOT NULL, s varchar(20) DEFAULT NULL, n int DEFAULT NULL, "
                     "d double DEFAULT NULL, PRIMARY KEY (id));\n",
                     "CREATE TABLE t (id int NOT NULL, s varchar(40) DEFAULT NULL, n bigint DEFAULT NULL, "
                     "d decimal(12,2) DEFAULT NULL, PRIMARY KEY (id));\n", mysql_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential, report.window)
    assert report.compared_naive
    note = next(n for n in report.notes if n.startswith("differential:"))
    assert "3 converted columns compared with the naive ALTER; 3 writes during the window, 0 refused" in note, note
    assert oracle.sibling_name(sa.make_url(mysql_url).database or "") not in _siblings(mysql_url)


@pytest.mark.mysql
def test_narrowings_refuse_the_window_writes_the_naive_modify_refuses(tmp_path: Path, mysql_url: str):
    """bigint -> int and varchar(64) -> varchar(50) over seeded values that fit: the largest
    bigint and the 64-character string written during the window are refused by the plan's
    triggers, as the naive MODIFY refuses them (1264, 1265); the rest equals the naive's."""
    report = _verify(tmp_path,
                     "CREATE TABLE t (id int NOT NULL, b bigint DEFAULT NULL, s varchar(64) DEFAULT NULL, "
                     "PRIMARY KEY (id));\n",
                     "CREATE TABLE t (id int NOT NULL, b int DEFAULT NULL, s varchar(50) DEFAULT NULL, "
                     "PRIMARY KEY (id));\n", mysql_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential, report.window)
    note = next(n for n in report.notes if n.startswith("differential:"))
    assert "2 converted columns compared with the naive ALTER; 2 writes during the window, 2 refused" in note, note


@pytest.mark.mysql
def test_a_guard_stop_passes_where_the_naive_modify_refuses_too(tmp_path: Path, mysql_url: str):
    """varchar(40) -> varchar(10) over seeded strings longer than 10 characters: the naive MODIFY
    fails (1265, data truncated), the plan stops at its guard before any DDL: verify passes and
    says why."""
    report = _verify(tmp_path, "CREATE TABLE t (id int NOT NULL, s varchar(40) NOT NULL, PRIMARY KEY (id));\n",
                     "CREATE TABLE t (id int NOT NULL, s varchar(10) NOT NULL, PRIMARY KEY (id));\n", mysql_url)
    assert report.ok, (report.after_downgrade, report.data, report.differential)
    assert any("stopped at a guard" in n and "the naive ALTER fails on the seeded rows too (t.s: (1265" in n
               for n in report.notes), report.notes


@pytest.mark.mysql
def test_the_sibling_database_is_dropped_also_on_errors(mysql_url: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch):
    """A naive run that raises (here: reading the values back) still drops its sibling."""
    old = "CREATE TABLE t (id int NOT NULL, s varchar(20) DEFAULT NULL, PRIMARY KEY (id));\n"
    new = "CREATE TABLE t (id int NOT NULL, s varchar(40) DEFAULT NULL, PRIMARY KEY (id));\n"
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    o = load_source(str(tmp_path / "old.sql"), dialect="mysql").schema
    n = load_source(str(tmp_path / "new.sql"), dialect="mysql").schema
    engine = sa.create_engine(mysql_url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (id int NOT NULL, s varchar(20), PRIMARY KEY (id))")
            conn.exec_driver_sql("INSERT INTO t VALUES (1, 'a'), (2, NULL)")
        targets = oracle.converted_columns(o, n)
        result = oracle.naive_results(engine, targets, [])
        assert result["t.s"].values == {(1,): "a", (2,): None}
        database = engine.url.database or ""
        assert oracle.sibling_name(database) not in _siblings(mysql_url)

        def boom(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            raise RuntimeError("boom")

        monkeypatch.setattr(oracle, "_values", boom)
        with pytest.raises(RuntimeError, match="boom"):
            oracle.naive_results(engine, targets, [])
        assert oracle.sibling_name(database) not in _siblings(mysql_url)
    finally:
        engine.dispose()


@pytest.mark.mysql
def test_a_data_error_is_a_refusal_and_the_values_are_read_by_key(mysql_url: str, tmp_path: Path):
    """A naive MODIFY that the data refuses gives `refused` (the server's error), one that works
    the values by primary key; the sibling's copy holds the application's writes, not the
    scratch database's table (which keeps its type and rows)."""
    (tmp_path / "old.sql").write_text("CREATE TABLE t (id int NOT NULL, s varchar(20), n bigint, PRIMARY KEY (id));")
    (tmp_path / "new.sql").write_text("CREATE TABLE t (id int NOT NULL, s varchar(3), n int, PRIMARY KEY (id));")
    o = load_source(str(tmp_path / "old.sql"), dialect="mysql").schema
    n = load_source(str(tmp_path / "new.sql"), dialect="mysql").schema
    engine = sa.create_engine(mysql_url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (id int NOT NULL, s varchar(20), n bigint, PRIMARY KEY (id))")
            conn.exec_driver_sql("INSERT INTO t VALUES (1, 'abc', 5), (2, NULL, 7)")
        targets = {c.name: c for c in oracle.converted_columns(o, n)}
        seeded = oracle.naive_results(engine, list(targets.values()), [])
        assert seeded["t.s"].values == {(1,): "abc", (2,): None} and seeded["t.n"].values == {(1,): 5, (2,): 7}
        write = oracle.Write(targets["t.s"], (2,), "toolong")
        written = oracle.naive_results(engine, list(targets.values()), [write])
        assert written["t.s"].refused and "1265, \"Data truncated" in written["t.s"].refused, written["t.s"]
        assert written["t.n"].values == {(1,): 5, (2,): 7}
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT id, s, n FROM t ORDER BY id").all() == [(1, "abc", 5), (2, None, 7)]
    finally:
        engine.dispose()


def test_boundary_values_of_mysql_types(tmp_path: Path):
    """The model's MySQL spellings get their edge: n characters, the largest integer (twice that
    plus one unsigned), the largest decimal, a summer instant for DATETIME and TIMESTAMP."""
    (tmp_path / "t.sql").write_text(
        "CREATE TABLE t (id int NOT NULL, a varchar(20), b char(3), c int, d bigint, e smallint, f tinyint, "
        "g mediumint, h decimal(10,2), i double, k datetime, l datetime(3), m timestamp NULL, n date, "
        "o tinyint(1), u int unsigned, v bigint unsigned, PRIMARY KEY (id));")
    table = load_source(str(tmp_path / "t.sql"), dialect="mysql").schema.tables[0]
    got = {c.name: oracle.boundary_value(c) for c in table.columns}
    import datetime as dt
    from decimal import Decimal
    summer = dt.datetime(2024, 7, 1, 12, 0)
    assert got == {"id": 2147483647, "a": "w" * 20, "b": "www", "c": 2147483647, "d": 9223372036854775807,
                   "e": 32767, "f": 127, "g": 8388607, "h": Decimal("99999999.99"), "i": 123456789.125,
                   "k": summer, "l": summer, "m": summer, "n": summer.date(), "o": None, "u": 4294967295,
                   "v": 18446744073709551615}
    assert oracle.boundary_value(Column(name="x", type="numeric(5,1)")) == Decimal("9999.9")


def test_sibling_name_fits_64_characters():
    assert oracle.sibling_name("scratch") == "scratch__naive"
    long = "d" * 64
    name = oracle.sibling_name(long)
    assert len(name) == 64 and name.endswith("__naive") and name != oracle.sibling_name("d" * 63 + "e")
