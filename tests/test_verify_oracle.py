"""verify's differential oracle on PostgreSQL: the plan's converted values against the naive
ALTER's, application writes during the window on a non-UTC session, writes after the upgrade
kept by the downgrade, and a guard stop accepted only where the naive ALTER fails too."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.config import load_config
from planner.pipeline import analyze
from planner.plan import build
from planner.verify.harness import verify

from .conftest import ROOT

OLD = ("CREATE TABLE u (id int PRIMARY KEY, s varchar(64), t timestamp(3), d timestamptz, n numeric(10,4), "
       "b bigint, note text);\n")
NEW = ("CREATE TABLE u (id int PRIMARY KEY, s varchar(50), t timestamptz(3), d timestamp, n numeric(12,2), "
       "b integer, note text);\n")


def _verify(tmp_path: Path, old: str, new: str, url: str, rows: int = 20):
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    analysis = analyze(str(tmp_path / "old.sql"), str(tmp_path / "new.sql"),
                       config=load_config(None, cwd=ROOT), dialect="postgresql", renames=[])
    return verify(analysis, url, rows=rows)


@pytest.mark.postgres
def test_converted_values_equal_the_naive_alter(tmp_path: Path, pg_url: str):
    """varchar shrink, timestamp <-> timestamptz, numeric rescale, bigint -> int: every value the
    plan leaves equals the naive ALTER's (UTC), although the migration runs on a New York
    session; the longest string and the largest bigint written during the window are refused by
    the trigger, as the naive ALTER would refuse them; the downgrade keeps the writes made
    after the upgrade and restores every row."""
    report = _verify(tmp_path, OLD, NEW, pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential)
    note = next(n for n in report.notes if n.startswith("differential:"))
    assert "5 converted columns" in note, note
    assert "5 writes during the window, 2 refused by the plan" in note, note


@pytest.mark.postgres
def test_the_oracle_catches_a_silent_cut_and_a_zone_shift(tmp_path: Path, pg_url: str,
                                                          monkeypatch: pytest.MonkeyPatch):
    """With the explicit casts planner once wrote (`::VARCHAR(50)` cuts, `::TIMESTAMPTZ` reads the
    session's zone), the round trip still agrees with itself: only the oracle sees it."""
    monkeypatch.setattr(build, "converted", lambda expr, old, new, new_sql: f"{expr}::{new_sql}")
    report = _verify(tmp_path, OLD, NEW, pg_url)
    text = "\n".join(report.differential)
    assert "u.s varchar(64) -> varchar(50): the plan accepted 'wwwwwwwwwwwwwwwwwwww...' (64 chars)" in text, text
    assert "which the naive ALTER refuses (value too long for type character varying(50))" in text, text
    assert "u.t timestamp(3) -> timestamptz(3), key 7: the plan gives 2024-07-01T16:00:00+00:00, " \
           "the naive ALTER 2024-07-01T12:00:00+00:00" in text, text
    assert not report.ok


@pytest.mark.postgres
def test_a_guard_stop_passes_where_the_naive_alter_fails_too(tmp_path: Path, pg_url: str):
    """Seeded strings longer than 3 characters: the naive ALTER fails, the plan stops at its guard
    before any DDL: as safe as the naive path, so verify passes and says why."""
    report = _verify(tmp_path, "CREATE TABLE u (id int PRIMARY KEY, s varchar(64));\n",
                     "CREATE TABLE u (id int PRIMARY KEY, s varchar(3));\n", pg_url)
    assert report.ok, (report.after_downgrade, report.data, report.differential)
    assert any("stopped at a guard" in n and "value too long for type character varying(3)" in n
               for n in report.notes), report.notes


@pytest.mark.postgres
def test_a_plan_that_succeeds_where_the_naive_alter_fails_is_a_defect(tmp_path: Path, pg_url: str,
                                                                      monkeypatch: pytest.MonkeyPatch):
    """Without its guards, the plan cuts the seeded strings to 3 characters and finishes: verify
    reports that the naive ALTER refuses the data the plan converted."""
    monkeypatch.setattr(build, "converted", lambda expr, old, new, new_sql: f"{expr}::{new_sql}")
    monkeypatch.setattr(build._Builder, "guards", lambda self, c: [])
    report = _verify(tmp_path, "CREATE TABLE u (id int PRIMARY KEY, s varchar(64));\n",
                     "CREATE TABLE u (id int PRIMARY KEY, s varchar(3));\n", pg_url)
    assert any("the naive ALTER fails on the seeded rows (value too long for type character varying(3)) but the "
               "plan succeeded" in d for d in report.differential), report.differential


@pytest.mark.postgres
@pytest.mark.parametrize("single", [False, True])
def test_redefinitions_under_the_same_name(tmp_path: Path, pg_url: str, single: bool):
    """An index, a UNIQUE constraint and a CHECK redefined under their own names: built under a
    temporary name and given the name after the old one is dropped (CREATE INDEX IF NOT EXISTS
    used to find the old index, do nothing, and contract dropped it: the index was gone)."""
    old = ("CREATE TABLE t (id int PRIMARY KEY, g text, h int, CONSTRAINT t_c CHECK (h > 0));\n"
           "CREATE INDEX t_g_idx ON t USING hash (g);\nALTER TABLE t ADD CONSTRAINT t_h_key UNIQUE (h);\n"
           "CREATE INDEX t_h_idx ON t (h);\n")
    new = ("CREATE TABLE t (id int PRIMARY KEY, g text, h int, CONSTRAINT t_c CHECK (h >= 0));\n"
           "CREATE INDEX t_g_idx ON t (g);\nALTER TABLE t ADD CONSTRAINT t_h_key UNIQUE (h, g);\n"
           "CREATE INDEX t_h_idx ON t (h) WHERE h > 0;\n")
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    analysis = analyze(str(tmp_path / "old.sql"), str(tmp_path / "new.sql"),
                       config=load_config(None, cwd=ROOT), dialect="postgresql", renames=[])
    if single:  # the same steps in one revision: the order inside it must hold too
        from planner.plan import revisions

        real = revisions.revisions
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("planner.verify.harness.revisions", lambda plan, **kw: real(plan, single=True, **kw))
            report = verify(analysis, pg_url)
    else:
        report = verify(analysis, pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential)


_ENUM_OLD = """datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}
enum Kind {
  A
  B
  C
}
model U {
  id Int  @id
  k  Kind
}
model V {
  id Int  @id
  k  Kind
}
model W {
  id Int  @id
  k  Kind
}
"""


@pytest.mark.postgres
def test_enum_value_removed_while_its_table_and_column_are_dropped(tmp_path: Path, pg_url: str):
    """Kind loses C while table U and column W.k (both of type Kind) are dropped and V's rows
    holding C are remapped: the enum recreation converts only what stays (the moved table and
    the dropped column are kept as text), and the downgrade brings all of it back."""
    new = _ENUM_OLD.replace("  C\n", "").replace("model U {\n  id Int  @id\n  k  Kind\n}\n", "") \
        .replace("model W {\n  id Int  @id\n  k  Kind\n}", "model W {\n  id Int  @id\n}")
    (tmp_path / "old.prisma").write_text(_ENUM_OLD)
    (tmp_path / "new.prisma").write_text(new)
    (tmp_path / "planner.toml").write_text('[enum_remap]\n"Kind.C" = "A"\n')
    analysis = analyze(str(tmp_path / "old.prisma"), str(tmp_path / "new.prisma"),
                       config=load_config(str(tmp_path / "planner.toml"), cwd=tmp_path), renames=[])
    kinds = sorted(c.kind.value for c in analysis.diff.changes)
    assert kinds == ["drop_column", "drop_table", "remove_enum_value"], kinds
    report = verify(analysis, pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential)
    assert sum(report.seeded.values()) == 60


@pytest.mark.postgres
def test_the_downgrade_keeps_what_the_application_wrote_into_backfilled_rows(tmp_path: Path, pg_url: str):
    """SET NOT NULL with a configured backfill: after the upgrade the application writes into a
    row the backfill filled; the downgrade puts NULL back only into rows that still hold what
    the backfill wrote (it used to put NULL back into every backed-up row)."""
    (tmp_path / "old.sql").write_text("CREATE TABLE u (id int PRIMARY KEY, score int, nick text);\n")
    (tmp_path / "new.sql").write_text("CREATE TABLE u (id int PRIMARY KEY, score int NOT NULL, nick text);\n")
    (tmp_path / "planner.toml").write_text('[backfill]\n"u.score" = "id * 7"\n')
    analysis = analyze(str(tmp_path / "old.sql"), str(tmp_path / "new.sql"),
                       config=load_config(str(tmp_path / "planner.toml"), cwd=tmp_path), dialect="postgresql",
                       renames=[])
    report = verify(analysis, pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.differential)
    assert "1 of 1 backfilled rows changed by the application after the upgrade" in report.notes, report.notes


@pytest.mark.postgres
def test_keys_that_widen_with_their_generators_and_references(tmp_path: Path, pg_url: str):
    """Serial and identity keys widened with the columns that reference them (R8 on the key:
    unique index attached as the key, the generator handed over, the referencing keys added
    again): verify passes, window writes included. A GENERATED ALWAYS key used to fail verify's
    own window write on every plan: the row it deletes and inserts again came back under a new
    key (the insert left the key out); it is written with OVERRIDING SYSTEM VALUE now."""
    old = ("CREATE TABLE a (id int GENERATED ALWAYS AS IDENTITY (START WITH 100 INCREMENT BY 5) PRIMARY KEY, v text);\n"
           "CREATE TABLE b (id serial PRIMARY KEY, a_id int REFERENCES a (id) ON DELETE CASCADE);\n"
           "CREATE TABLE c (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, b_id int NOT NULL REFERENCES b (id),"
           " parent_id int REFERENCES c (id));\n")
    new = old.replace("(id int GENERATED ALWAYS", "(id bigint GENERATED ALWAYS").replace("a_id int", "a_id bigint") \
        .replace("(id serial", "(id bigserial").replace("b_id int", "b_id bigint") \
        .replace("(id int GENERATED BY DEFAULT", "(id bigint GENERATED BY DEFAULT").replace("parent_id int", "parent_id bigint")
    report = _verify(tmp_path, old, new, pg_url, rows=30)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.window, report.differential)
    assert "6 converted columns" in next(n for n in report.notes if n.startswith("differential:"))
    assert "all accepted" in next(n for n in report.notes if n.startswith("window:"))


@pytest.mark.postgres
@pytest.mark.parametrize("old", [
    # two columns of one index widen (a join table's pair, two foreign keys)
    "CREATE TABLE p (id bigint PRIMARY KEY);\n"
    "CREATE TABLE c (id int PRIMARY KEY, a int REFERENCES p (id), b int REFERENCES p (id));\n"
    "CREATE INDEX c_a_b_idx ON c (a, b);\n",
    # ... without foreign keys
    "CREATE TABLE c (id int PRIMARY KEY, a int, b int);\nCREATE INDEX c_a_b_idx ON c (a, b);\n",
    # both columns of a composite foreign key widen
    "CREATE TABLE p (x bigint NOT NULL, y bigint NOT NULL, PRIMARY KEY (x, y));\n"
    "CREATE TABLE c (id int PRIMARY KEY, a int, b int, CONSTRAINT c_p_fkey FOREIGN KEY (a, b) REFERENCES p (x, y));\n",
    # the key and a parent reference in one index
    "CREATE TABLE c (id serial PRIMARY KEY, a int, b int REFERENCES c (id));\nCREATE INDEX c_b_id_idx ON c (b, id);\n",
], ids=["index-of-two-keys", "index-of-two", "composite-foreign-key", "key-and-parent"])
def test_two_columns_of_one_index_or_key_widen(tmp_path: Path, pg_url: str, old: str):
    """Two columns of one index (or of one foreign key) both widening used to make two swaps
    that each rebuilt the index (or the key) on their own new column: the second build found
    the first's copy (`already exists`) or the second rename found nothing; then both were
    converted in place (a rewrite under ACCESS EXCLUSIVE). They are swapped together now: the
    shared index or key built once over both new columns, one swap (with the table's own
    parent key dropped and added again by it, where the pair holds the key it references)."""
    new = old.replace("a int", "a bigint").replace("b int", "b bigint").replace("id serial", "id bigserial")
    report = _verify(tmp_path, old, new, pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.window, report.differential)
    analysis = analyze(str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), config=load_config(None, cwd=ROOT),
                       dialect="postgresql", renames=[])
    titles = [s.title for s in build.build_plan(analysis.diff, analysis.old.schema, analysis.new.schema).steps]
    assert not [t for t in titles if "in place" in t], titles
    together = [t for t in titles if t.startswith("swap c.") and ", " in t.split(" in as ")[1].split(" (")[0]]
    assert len(together) == 1, titles


@pytest.mark.postgres
def test_a_lossy_and_an_exact_column_swapped_together(tmp_path: Path, pg_url: str):
    """Columns swapped together are filled by the same batches. On the way back the lossy one
    (numeric scale cut, timestamp precision cut) first gets its old values from the backup;
    the shared batches, selecting every row for the exact one (int -> bigint), then overwrote
    them with the converted values: the downgrade stopped (numeric overflow) or silently kept
    the cut timestamps. Each column is now set only on the rows of its own condition."""
    old = ("CREATE TABLE price (id int PRIMARY KEY, item int, amount numeric(10,4));\n"
           "CREATE INDEX price_item_amount ON price (item, amount);\n"
           "CREATE TABLE ev (id int PRIMARY KEY, item int, at timestamp(6));\n"
           "CREATE INDEX ev_item_at ON ev (item, at);\n")
    new = old.replace("item int", "item bigint").replace("numeric(10,4)", "numeric(10,2)") \
        .replace("timestamp(6)", "timestamp(0)")
    report = _verify(tmp_path, old, new, pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.window, report.differential)


@pytest.mark.postgres
def test_two_enum_columns_of_one_index_recreated(tmp_path: Path, pg_url: str):
    """The same with two enum types recreated (values reordered) whose columns share an index:
    each column's swap rebuilt the index on its own copy, and the upgrade stopped."""
    old = ("CREATE TYPE st AS ENUM ('a', 'b');\nCREATE TYPE kd AS ENUM ('p', 'q');\n"
           "CREATE TABLE t (id int PRIMARY KEY, s st, k kd);\nCREATE INDEX t_s_k_idx ON t (s, k);\n")
    new = old.replace("('a', 'b')", "('b', 'a')").replace("('p', 'q')", "('q', 'p')")
    report = _verify(tmp_path, old, new, pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.window, report.differential)


@pytest.mark.postgres
def test_key_columns_that_do_not_convert_back_exactly(tmp_path: Path, pg_url: str):
    """A key column whose conversion is lossy or does not round-trip (text -> varchar(64),
    varchar -> char, timestamp -> timestamptz) is converted in place: its backup, keyed by the
    values that change, selected the key twice (`column specified more than once`) on the
    in-place path, and the swap's would have too."""
    old = ("CREATE TABLE country (code text PRIMARY KEY, name text);\n"
           "CREATE TABLE k (c varchar(10) PRIMARY KEY, n int);\nCREATE TABLE ev (at timestamp PRIMARY KEY, n int);\n")
    new = old.replace("code text", "code varchar(64)").replace("c varchar(10)", "c char(10)") \
        .replace("at timestamp", "at timestamptz")
    report = _verify(tmp_path, old, new, pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.window, report.differential)


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite"])
def test_names_derived_from_free_text_never_collide(tmp_path: Path, dialect: str, request):
    """planner joins names: `a_b`.`c` and `a`.`b_c` both gave the trigger function
    `a_b_c__planner_sync` (the upgrade stopped: the second swap replaced the first's function);
    `x__y`.`z` and `x`.`y__z` both gave the backup `x__y__z`, and so did `s.t`.`x` and
    `r.t`.`x` (one backup schema): CREATE TABLE IF NOT EXISTS kept the first table's backup, and
    the downgrade put the wrong values back. The second owner's name now carries a hash."""
    url = request.getfixturevalue({"postgresql": "pg_url", "mysql": "mysql_url", "sqlite": "sqlite_url"}[dialect])
    old = ("CREATE TABLE a_b (id int PRIMARY KEY, c int);\nCREATE TABLE a (id int PRIMARY KEY, b_c int);\n"
           "CREATE TABLE x__y (id int PRIMARY KEY, z int, k int);\nCREATE TABLE x (id int PRIMARY KEY, y__z int, k int);\n")
    new = (old.replace("c int", "c bigint").replace(" z int,", "").replace(" y__z int,", ""))
    if dialect == "postgresql":
        old += ("CREATE SCHEMA s;\nCREATE SCHEMA r;\nCREATE TABLE s.t (id int PRIMARY KEY, v int, k int);\n"
                "CREATE TABLE r.t (id int PRIMARY KEY, v int, k int);\n")
        new += ("CREATE SCHEMA s;\nCREATE SCHEMA r;\nCREATE TABLE s.t (id int PRIMARY KEY, k int);\n"
                "CREATE TABLE r.t (id int PRIMARY KEY, k int);\n")
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    analysis = analyze(str(tmp_path / "old.sql"), str(tmp_path / "new.sql"),
                       config=load_config(None, cwd=ROOT), dialect=dialect, renames=[])
    plan = build.build_plan(analysis.diff, analysis.old.schema, analysis.new.schema)
    backups = [name for _, name in plan.kept]
    assert len(backups) == len(set(backups)) >= 2, backups
    report = verify(analysis, url, rows=20)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.window, report.differential)


@pytest.mark.postgres
def test_percent_and_colon_names_are_names_to_verify(tmp_path: Path, pg_url: str):
    """verify ran its own SQL through the DBAPI's parameter parsing: a table named `t%s` became
    `relation "t$1" does not exist` (an internal error, and the scratch database left full)."""
    old = 'CREATE TABLE "t%s" (id int PRIMARY KEY, "v%(x)s" int, "a:b" text, note text);\n'
    new = 'CREATE TABLE "t%s" (id int PRIMARY KEY, "v%(x)s" bigint, "a:b" text);\n'
    report = _verify(tmp_path, old, new, pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.window, report.differential)


@pytest.mark.postgres
def test_a_key_and_its_references_change_to_a_type_the_old_one_cannot_join(tmp_path: Path, pg_url: str):
    """int -> text on a primary key and on the columns that reference it: the referencing
    column's R8 copy was given a key to the old `int` key (`foreign key constraint ... cannot
    be implemented`: the upgrade stopped in its second revision), and the naive ALTER of either
    side fails the same way. Both change in place now, the key dropped before the referenced
    side's conversion and added again NOT VALID after the referencing side's, validated online."""
    old = ("CREATE TABLE users (id int PRIMARY KEY, name text);\n"
           "CREATE TABLE posts (id int PRIMARY KEY, user_id int NOT NULL REFERENCES users (id) ON DELETE CASCADE, "
           "title text);\n"
           "CREATE TABLE likes (user_id int REFERENCES users (id), post_id int REFERENCES posts (id), "
           "PRIMARY KEY (user_id, post_id));\n"
           "CREATE TABLE notes (id int PRIMARY KEY, post_id int REFERENCES posts (id), body text);\n")
    new = old.replace("int", "text").replace("notes (id text", "notes (id int")
    report = _verify(tmp_path, old, new, pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.window, report.differential)


@pytest.mark.postgres
def test_a_schema_that_only_new_uses_is_created_first(tmp_path: Path, pg_url: str):
    """NEW's table and enum in a schema OLD has nothing in: the plan never created the schema
    (`schema "fresh" does not exist` at upgrade). It is created first in expand now, and its
    downgrade drops it again (only while empty)."""
    old = "CREATE TABLE t (id int PRIMARY KEY);\n"
    new = old + ("CREATE SCHEMA fresh;\nCREATE TYPE fresh.st AS ENUM ('a', 'b');\n"
                 "CREATE TABLE fresh.t (id int PRIMARY KEY, s fresh.st, t_id int REFERENCES t (id));\n")
    report = _verify(tmp_path, old, new, pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.window, report.differential)


@pytest.mark.postgres
@pytest.mark.parametrize("schemas", [("a", "b"), ("a.b",), ("x%y",)], ids=["two-schemas", "dot", "percent"])
def test_type_changes_in_named_schemas(tmp_path: Path, pg_url: str, schemas: tuple[str, ...]):
    """verify's naive-ALTER oracle keyed its results by table.column: the same table in two
    schemas was compared with the other's values (a false FAIL); it wrote a schema named `a.b`
    unquoted (`ALTER TABLE a.b.c`); a `%` in a schema name crashed its CREATE SCHEMA."""
    old = "".join(f'CREATE SCHEMA "{s}";\nCREATE TABLE "{s}".t (id int PRIMARY KEY, score int);\n' for s in schemas)
    report = _verify(tmp_path, old, old.replace("score int", "score bigint"), pg_url)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.window, report.differential)


@pytest.mark.postgres
@pytest.mark.parametrize("rename", ["a.x=b.x", "a.x=b.y", "a.st=b.st"])
def test_a_table_or_enum_moves_to_another_schema(tmp_path: Path, pg_url: str, rename: str):
    """`--rename a.x=b.x` (and an enum's) wrote a RENAME within schema `a` (`relation "x" already
    exists`, `relation "b.y" does not exist`, `type "st" already exists`). The object is renamed
    and moved with SET SCHEMA now (schema `b` created first where OLD has nothing in it)."""
    old = ("CREATE SCHEMA a;\nCREATE TYPE a.st AS ENUM ('on', 'off');\nCREATE TABLE a.users (id int PRIMARY KEY);\n"
           "CREATE TABLE a.x (id int PRIMARY KEY, v text, s a.st, user_id int REFERENCES a.users (id));\n")
    frm, to = rename.split("=")
    new = old.replace(f"TABLE {frm} ", f"TABLE {to} ") if frm == "a.x" else old.replace("a.st", "b.st")
    new = "CREATE SCHEMA b;\n" + new
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    analysis = analyze(str(tmp_path / "old.sql"), str(tmp_path / "new.sql"),
                       config=load_config(None, cwd=ROOT), dialect="postgresql", renames=[rename])
    assert any(c.kind.value.startswith("rename") for c in analysis.diff.changes), analysis.diff.changes
    report = verify(analysis, pg_url, rows=20)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.window, report.differential)


@pytest.mark.postgres
@pytest.mark.parametrize("reader", [
    "ALTER TABLE t ADD CONSTRAINT s_chk CHECK (s <> 'w');",
    "CREATE INDEX t_s_partial ON t (id) WHERE s = 'y';",
    "CREATE INDEX t_s_expr ON t ((s = 'x'), id);",
    "CREATE UNIQUE INDEX t_one_open ON t (k) WHERE s IN ('x', 'y');",
], ids=["check", "partial-index", "expression-index", "partial-unique"])
@pytest.mark.parametrize("change", ["remove", "reorder"])
def test_an_enum_recreated_under_checks_and_partial_indexes(tmp_path: Path, pg_url: str, reader: str, change: str):
    """A CHECK or an index predicate or expression that compares an enum column with a literal
    keeps the literal typed as the enum (`s <> 'w'::status`): converting the column to the
    recreated enum failed on it (`operator does not exist: status__planner_new <> status`), as
    the naive migration does. They are dropped before the conversion and created again after."""
    from planner.config import Config

    old = ("CREATE TYPE status AS ENUM ('x', 'y', 'z', 'w');\n"
           "CREATE TABLE t (id int PRIMARY KEY, k int, s status NOT NULL DEFAULT 'x');\n" + reader + "\n")
    new = old.replace("('x', 'y', 'z', 'w')", "('x', 'y', 'w')" if change == "remove" else "('y', 'x', 'z', 'w')")
    (tmp_path / "old.sql").write_text(old)
    (tmp_path / "new.sql").write_text(new)
    config = Config(enum_remap={"status.z": "y"}) if change == "remove" else Config()
    analysis = analyze(str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), config=config, dialect="postgresql",
                       renames=[])
    report = verify(analysis, pg_url, rows=0 if "UNIQUE" in reader else 20)
    assert report.ok, (report.after_upgrade, report.after_downgrade, report.data, report.window, report.differential)
