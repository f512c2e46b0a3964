"""MySQL/MariaDB plans leave exactly the schema and data the naive migration would, and their
downgrades bring back exactly OLD (findings of a differential probe against MariaDB 10.11:
plan + upgrade + downgrade against the plain ALTER on copies of the same rows)."""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from planner.cli import app
from planner.verify.harness import VerifyReport

from .conftest import ROOT, run_sql
from .test_verify_oracle_mysql import _verify


def _ok(report: VerifyReport) -> None:
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential,
                       report.window)


@pytest.mark.mysql
def test_restore_of_a_dropped_column_keeps_an_on_update_column_restored_before_it(tmp_path: Path,
                                                                                mysql_url: str):
    """The contract's downgrade restores `w` first, then `a`: the restore of `a` (`UPDATE ...
    SET t.a = b.a`) left `w` out of its `w = w` list (a column the plan drops), so every row's
    `w`, NULLs too, became the downgrade's time."""
    _ok(_verify(tmp_path, "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT, "
                          "w DATETIME NULL ON UPDATE CURRENT_TIMESTAMP);\n",
                "CREATE TABLE t (id INT NOT NULL PRIMARY KEY);\n", mysql_url))


def _dump(url: str) -> str:
    """Everything a schema difference shows in: SHOW CREATE TABLE, information_schema's view of
    each column, and every row (by the first column)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    out: list[str] = []
    try:
        with engine.connect() as c:
            c.exec_driver_sql("SET time_zone = '+00:00'")
            names = [n for n in c.exec_driver_sql("SHOW TABLES").scalars()
                     if not n.startswith("planner_backup__") and n != "alembic_version"]
            for n in sorted(names):
                out.append(c.exec_driver_sql(f"SHOW CREATE TABLE `{n}`").one()[1])
                out += [" | ".join(map(str, r)) for r in c.exec_driver_sql(
                    "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, CHARACTER_SET_NAME, "
                    "COLLATION_NAME, GENERATION_EXPRESSION FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                    f"DATABASE() AND TABLE_NAME = '{n}' ORDER BY ORDINAL_POSITION")]
                out += [" | ".join(map(str, r)) for r in c.exec_driver_sql(f"SELECT * FROM `{n}` ORDER BY 1")]
    finally:
        engine.dispose()
    return "\n".join(out) + "\n"


def _alembic(project: Path, url: str, *args: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "alembic", "-c", str(project / "alembic.ini"), "-x", f"db={url}",
                        *args], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-2000:]


def differential(tmp_path: Path, url: str, old: str, new: str, naive: str, seed: str = "",
                 post: str = "", clean=lambda text: text, config: str = "") -> tuple[str, str]:  # noqa: ANN001
    """(upgrade diff, downgrade diff): the plan's upgrade against `naive` on a copy of OLD +
    `seed` (`post` run on both after), then its downgrade against OLD + `seed`; `clean` takes
    noise out of both dumps (times of NOW()). Empty: the same."""
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    project = tmp_path / "proj"
    (tmp_path / "planner.toml").write_text(config)
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "-d", "mysql",
                                 *(["--config", str(tmp_path / "planner.toml")] if config else ["--no-config"]),
                                 "--init", str(project), "--rev-id-seed", "fidelity"])
    assert r.exit_code == 0, r.output
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    other = sa.make_url(url).database + "_b"
    other_url = sa.make_url(url).set(database=other).render_as_string(hide_password=False)
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE `{other}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    try:
        for u in (url, other_url):
            run_sql(u, old + seed)
        _alembic(project, url, "upgrade", "head")
        run_sql(other_url, naive)
        if post:
            run_sql(url, post)
            run_sql(other_url, post)
        up = "".join(difflib.unified_diff(clean(_dump(other_url)).splitlines(True),
                                          clean(_dump(url)).splitlines(True), "naive", "plan"))
        _alembic(project, url, "downgrade", "base")
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE `{other}`")
            c.exec_driver_sql(f"CREATE DATABASE `{other}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        run_sql(other_url, old + seed + post)
        down = "".join(difflib.unified_diff(clean(_dump(other_url)).splitlines(True),
                                            clean(_dump(url)).splitlines(True), "OLD", "downgraded"))
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS `{other}`")
        admin.dispose()
    return up, down


@pytest.mark.mysql
def test_default_expressions_keep_their_precision(tmp_path: Path, mysql_url: str):
    """`DEFAULT (NOW(3) + INTERVAL 1 DAY)` was read as `CURRENT_TIMESTAMP() + INTERVAL '1' DAY`
    (NOW and CURRENT_TIMESTAMP one spelling, the precision lost): every MODIFY, ADD COLUMN and
    drop-column downgrade wrote that, and new rows lost their fractional seconds."""
    old = ("CREATE TABLE t (id INT NOT NULL PRIMARY KEY, j DATETIME(3) DEFAULT (NOW(3) + INTERVAL 1 DAY), "
           "k DATETIME(6) DEFAULT (CURRENT_TIMESTAMP(6) + INTERVAL 1 HOUR), x INT);\n")
    new = ("CREATE TABLE t (id INT NOT NULL PRIMARY KEY, j DATETIME(3) DEFAULT (NOW(3) + INTERVAL 1 DAY) "
           "COMMENT 'jj', x INT, m DATE DEFAULT (CURRENT_DATE + INTERVAL 1 YEAR), "
           "n DATETIME(6) DEFAULT (NOW(6) - INTERVAL 1 SECOND));\n")
    naive = ("ALTER TABLE t MODIFY j DATETIME(3) DEFAULT (NOW(3) + INTERVAL 1 DAY) COMMENT 'jj', DROP COLUMN k, "
             "ADD COLUMN m DATE DEFAULT (CURRENT_DATE + INTERVAL 1 YEAR), "
             "ADD COLUMN n DATETIME(6) DEFAULT (NOW(6) - INTERVAL 1 SECOND);\n")
    def clean(text: str) -> str:  # `INTERVAL '1' DAY` is `INTERVAL 1 DAY`; rows hold the time of the run
        return re.sub(r"^1 \| .*\n", "", re.sub(r"interval '(\d+)'", r"interval \1", text), flags=re.M)

    up, down = differential(tmp_path, mysql_url, old, new, naive, "INSERT INTO t (id, x) VALUES (1, 1);\n",
                            clean=clean)
    assert not up, up
    assert not down, down


_ATTRIBUTES = {
    "INVISIBLE": "a VARCHAR(3) INVISIBLE",
    "CHARACTER SET latin1": "a VARCHAR(3) CHARACTER SET latin1",
    "BINARY": "a CHAR(3) BINARY",
    "ZEROFILL": "a INT(5) ZEROFILL",
    "column-level CHECK": "a VARCHAR(3) CHECK (a <> 'x')",
}


def _widened(definition: str) -> str:
    return definition.replace("VARCHAR(3)", "VARCHAR(5)").replace("CHAR(3)", "CHAR(5)").replace("INT(5)", "BIGINT(5)")


@pytest.mark.parametrize("attribute", sorted(_ATTRIBUTES))
@pytest.mark.parametrize("change", ["modify", "drop", "create"])
def test_a_column_attribute_the_model_does_not_hold_stops_the_plan(tmp_path: Path, attribute: str, change: str):
    """A MODIFY (widening), the downgrade of a drop (ADD COLUMN) and a new table restated the
    column without INVISIBLE, CHARACTER SET latin1 (-> utf8mb4: data converted), BINARY
    (utf8mb4_bin -> the default collation: uniqueness changes), ZEROFILL, or its column-level
    CHECK (MariaDB keeps it in the column): now exit 2, one line naming column and attribute."""
    definition = _ATTRIBUTES[attribute]
    old = f"CREATE TABLE t (id INT NOT NULL PRIMARY KEY, {definition});\n"
    new = {"modify": f"CREATE TABLE t (id INT NOT NULL PRIMARY KEY, {_widened(definition)});\n",
           "drop": "CREATE TABLE t (id INT NOT NULL PRIMARY KEY);\n",
           "create": old + f"CREATE TABLE u (id INT NOT NULL PRIMARY KEY, {definition});\n"}[change]
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "-d", "mysql",
                                 "--no-config", "--init", str(tmp_path / "proj")])
    assert r.exit_code == 2, r.output
    table = "u" if change == "create" else "t"
    assert f"{table}.a: planner cannot restate its {attribute}" in r.output, r.output


def test_an_unchanged_column_with_such_an_attribute_plans_as_before(tmp_path: Path):
    (tmp_path / "old.sql").write_text("CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a VARCHAR(3) INVISIBLE, b INT);\n")
    (tmp_path / "new.sql").write_text("CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a VARCHAR(3) INVISIBLE, "
                                      "b BIGINT);\n")
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "-d", "mysql",
                                 "--no-config", "--init", str(tmp_path / "proj")])
    assert r.exit_code == 0, r.output


@pytest.mark.mysql
def test_a_live_database_shows_the_attributes_too(tmp_path: Path, mysql_url: str):
    """Reflection: INVISIBLE and ZEROFILL (information_schema.COLUMNS), MariaDB's column-level
    CHECK (CHECK_CONSTRAINTS.LEVEL = 'Column')."""
    run_sql(mysql_url, "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a VARCHAR(3) INVISIBLE, b INT(5) ZEROFILL, "
                       "c VARCHAR(3) CHECK (c <> 'x'));\n")
    (tmp_path / "new.sql").write_text("CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a VARCHAR(5) INVISIBLE, "
                                      "b BIGINT(5) ZEROFILL, c VARCHAR(5) CHECK (c <> 'x'));\n")
    r = CliRunner().invoke(app, ["plan", mysql_url, str(tmp_path / "new.sql"), "-d", "mysql", "--no-config",
                                 "--init", str(tmp_path / "proj")])
    assert r.exit_code == 2, r.output
    assert "planner cannot restate its" in r.output, r.output
    from planner.load import load_source

    columns = {c.name: c.unkept for c in load_source(mysql_url, dialect="mysql").schema.tables[0].columns}
    assert columns == {"id": (), "a": ("INVISIBLE",), "b": ("ZEROFILL",), "c": ("column-level CHECK",)}


def test_a_comment_after_an_inline_primary_key_or_unique_is_the_columns():
    """`id INT ... PRIMARY KEY COMMENT 'pk'`: the index tail took the COMMENT, the column lost it."""
    from planner.load.ddl import load_sql_text

    schema = load_sql_text("CREATE TABLE t (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'pk', "
                           "u VARCHAR(3) UNIQUE COMMENT 'uu');\n", dialect="mysql").schema
    assert [c.comment for c in schema.tables[0].columns] == ["pk", "uu"]


@pytest.mark.mysql
def test_a_stored_generated_column_stays_stored(tmp_path: Path, mysql_url: str):
    """`AS (expr) STORED` was read as a generated column without its kind: a new table got a
    VIRTUAL one, and a comment change of an existing one was refused (1907: a MODIFY cannot
    turn STORED into VIRTUAL)."""
    old = "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT, s INT AS (a * 2) STORED);\n"
    new = ("CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT, s INT AS (a * 2) STORED COMMENT 'twice');\n"
           "CREATE TABLE u (id INT NOT NULL PRIMARY KEY, a INT, s INT AS (a * 3) STORED, v INT AS (a * 4) VIRTUAL);\n")
    naive = ("ALTER TABLE t MODIFY s INT AS (a * 2) STORED COMMENT 'twice';\n"
             "CREATE TABLE u (id INT NOT NULL PRIMARY KEY, a INT, s INT AS (a * 3) STORED, v INT AS (a * 4) VIRTUAL);\n")
    up, down = differential(tmp_path, mysql_url, old, new, naive, "INSERT INTO t (id, a) VALUES (1, 1);\n")
    assert not up, up
    assert not down, down


@pytest.mark.mysql
@pytest.mark.parametrize("change", ["drop", "not null"])
def test_a_timestamp_made_not_null_may_copy_where_the_server_requires_it(tmp_path: Path, mysql_url: str,
                                                                         change: str):
    """MariaDB refuses `MODIFY ts TIMESTAMP NOT NULL ...` in place (1846 "cannot convert NULL to
    non-constant DEFAULT. Try ALGORITHM=COPY"), which the naive statement does by a copy: the
    downgrade of a dropped `TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE ...` column
    stopped there (left nullable, without its default), and so did a TIMESTAMP made NOT NULL
    with a stated backfill. The server may copy now, where it says it must."""
    if change == "drop":
        old = ("CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT NULL, u TIMESTAMP NOT NULL DEFAULT "
               "CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP);\n")
        new = "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, a INT NULL);\n"
        naive, seed = "ALTER TABLE t DROP COLUMN u;\n", "INSERT INTO t VALUES (1, 1, '2020-01-01 00:00:00');\n"
    else:
        old = "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, ts TIMESTAMP NULL DEFAULT NULL);\n"
        new = "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, ts TIMESTAMP NOT NULL DEFAULT '2000-01-01 00:00:00');\n"
        naive = ("UPDATE t SET ts = '2000-01-01 00:00:00' WHERE ts IS NULL;\n"
                 "ALTER TABLE t MODIFY ts TIMESTAMP NOT NULL DEFAULT '2000-01-01 00:00:00';\n")
        seed = "INSERT INTO t VALUES (1, '2020-01-01 00:00:00'), (2, NULL);\n"
    config = "" if change == "drop" else "[backfill]\n\"t.ts\" = \"'2000-01-01 00:00:00'\"\n"
    up, down = differential(tmp_path, mysql_url, old, new, naive, seed, config=config)
    assert up == "" and down == "", up + down


@pytest.mark.mysql
def test_a_new_table_keeps_its_charset_collation_engine_row_format_and_first_id(tmp_path: Path, mysql_url: str):
    """A table the plan created took the database's defaults: its `DEFAULT CHARSET`, `COLLATE`
    (a Prisma table's utf8mb4_unicode_ci became the database's collation: other comparisons and
    uniqueness), `ROW_FORMAT` and `AUTO_INCREMENT=1000` (the first id was 1) were lost. They are
    read with the table and given to its CREATE TABLE."""
    old = "CREATE TABLE a (id INT NOT NULL PRIMARY KEY);\n"
    table = ("CREATE TABLE nt (id INT NOT NULL AUTO_INCREMENT, name VARCHAR(20) NOT NULL, PRIMARY KEY (id)) "
             "ENGINE=InnoDB ROW_FORMAT=COMPRESSED AUTO_INCREMENT=1000 DEFAULT CHARSET=latin1 COLLATE=latin1_bin;\n")
    up, down = differential(tmp_path, mysql_url, old, old + table, table)
    assert up == "" and down == "", up + down


def test_prisma_mysql_tables_are_created_as_prisma_creates_them():
    from planner.load.prisma import schema_from_prisma

    schema, _ = schema_from_prisma({"schema.prisma": 'datasource db {\n  provider = "mysql"\n  url = env("U")\n}\n'
                                                     "model User {\n  id Int @id\n}\n"})
    assert schema.table("User").options == ("DEFAULT CHARSET=utf8mb4", "COLLATE=utf8mb4_unicode_ci")


@pytest.mark.mysql
def test_added_columns_take_news_positions(tmp_path: Path, mysql_url: str):
    """Added columns went to the end of the table in name order: NEW `(id, x, j, b, a, m)` became
    `(id, x, m, a, b, j)` (`SELECT *` and positional INSERTs see the order). They are added in
    NEW's order, each after its predecessor in NEW (under the name it has then: `y` is renamed
    to `y2` only in contract)."""
    old = "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, x INT NULL, y INT NULL, m INT NULL);\n"
    new = ("CREATE TABLE t (id INT NOT NULL PRIMARY KEY, x INT NULL, j INT NULL, b INT NOT NULL DEFAULT 0, "
           "a VARCHAR(5) NULL, y2 INT NULL, k INT NULL, m INT NULL);\n")
    naive = ("ALTER TABLE t ADD COLUMN j INT NULL AFTER x, ADD COLUMN b INT NOT NULL DEFAULT 0 AFTER j, "
             "ADD COLUMN a VARCHAR(5) NULL AFTER b, ADD COLUMN k INT NULL AFTER y;\n"
             "ALTER TABLE t RENAME COLUMN y TO y2;\n")
    up, down = differential(tmp_path, mysql_url, old, new, naive, "INSERT INTO t VALUES (1, 2, 3, 4);\n",
                            config='[renames]\n"t.y" = "y2"\n')
    assert up == "" and down == "", up + down


@pytest.mark.mysql
def test_r8_comes_back_when_a_virtual_column_reads_the_converted_one(tmp_path: Path, mysql_url: str):
    """R8's downgrade of `b INT -> BIGINT` with `g INT AS (b * 2) VIRTUAL` stopped at the swap back
    (1846 "INPLACE ADD or DROP of virtual columns cannot be combined with other ALTER TABLE
    actions"), leaving `b bigint` beside `b__planner_old`. The swap back may copy now where the
    server says it must (a generated column reads the column)."""
    old = "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, b INT NULL, g INT AS (b * 2) VIRTUAL, note VARCHAR(5) NULL);\n"
    up, down = differential(tmp_path, mysql_url, old, old.replace("b INT NULL", "b BIGINT NULL"),
                            "ALTER TABLE t MODIFY b BIGINT NULL;\n", "INSERT INTO t (id, b, note) VALUES (1, 7, 'x');\n")
    assert up == "" and down == "", up + down


@pytest.mark.mysql
def test_a_column_added_with_an_expression_default_may_copy(tmp_path: Path, mysql_url: str):
    """`ADD COLUMN y INT DEFAULT (x * 2)` stopped with 1845 (neither INSTANT nor INPLACE: the
    server computes the default of every row), where the naive ADD copies the table. It may copy
    now, where the server says it must."""
    old = "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, x INT NULL);\n"
    new = "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, x INT NULL, y INT NULL DEFAULT (x * 2));\n"
    up, down = differential(tmp_path, mysql_url, old, new, "ALTER TABLE t ADD COLUMN y INT NULL DEFAULT (x * 2);\n",
                            "INSERT INTO t VALUES (1, 3), (2, NULL);\n")
    assert up == "" and down == "", up + down
