"""The runtime module of the generated revisions: written once into the migrations folder,
versioned, loaded by each revision without any change to the project's env.py (online and
--sql), and the only thing besides alembic and sqlalchemy a revision imports."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from planner.cli import app
from planner.load import load_source
from planner.plan import runtime
from planner.verify.harness import build_schema

OLD = "CREATE TABLE pets (id integer PRIMARY KEY, name text, legs integer);\n"
#: several change kinds: a NOT NULL column with a default, an index, a type change, a drop
NEW = ("CREATE TABLE pets (id integer PRIMARY KEY, name varchar(80), status text NOT NULL DEFAULT 'new');\n"
       "CREATE INDEX pets_name_idx ON pets (name);\n")


def _sources(tmp_path: Path) -> tuple[str, str]:
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text(OLD)
    new.write_text(NEW)
    return str(old), str(new)


def _plan(*args: str) -> None:
    result = CliRunner().invoke(app, ["plan", *args, "-q"])
    assert result.exit_code == 0, result.output


def _alembic(ini: Path, *args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "alembic", "-c", str(ini), *args], env=env, cwd=ini.parent,
                          capture_output=True, text=True, check=False)


def _user_project(path: Path, url: str) -> Path:
    """An Alembic project as `alembic init` writes it, with the user's own env.py (its URL in
    alembic.ini); planner changes nothing in it but the revisions and its runtime module."""
    subprocess.run([sys.executable, "-m", "alembic", "init", "migrations"], cwd=path, check=True,
                   capture_output=True)
    ini = path / "alembic.ini"
    ini.write_text(ini.read_text().replace("driver://user:pass@localhost/dbname", url.replace("%", "%%")))
    return ini


def test_digest_pins_the_released_text():
    """A version's text never changes: helpers that change get a new VERSION (and file name)."""
    assert runtime.digest(runtime.RUNTIME) == runtime.DIGEST, (
        "planner/plan/migration_runtime.py changed: revisions already written load "
        f"{runtime.FILENAME} by name, so a text that was released needs a new VERSION; pin the new DIGEST "
        "(in the same release, before any release: the DIGEST only)")
    assert runtime.FILENAME == f"planner_runtime_v{runtime.VERSION}.py"


def test_module_imports_only_alembic_and_sqlalchemy():
    tree = ast.parse(runtime.RUNTIME)
    roots = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    roots |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert roots - set(sys.stdlib_module_names) == {"alembic", "sqlalchemy"}


def test_written_once_beside_env_py(tmp_path: Path):
    old, new = _sources(tmp_path)
    proj = tmp_path / "proj"
    _plan(old, new, "--init", str(proj))
    module = proj / "migrations" / runtime.FILENAME
    assert module.read_text() == runtime.RUNTIME
    revisions = sorted((proj / "migrations" / "versions").glob("*.py"))
    assert len(revisions) >= 2
    for f in revisions:
        text = f.read_text()
        tree = ast.parse(text)
        imported = {(n.module or "") for n in tree.body if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in tree.body if isinstance(n, ast.Import) for a in n.names}
        assert {m.split(".")[0] for m in imported} <= {"alembic", "sqlalchemy", "collections"}, (f.name, imported)
        assert f'rt = load_python_file(context.script.dir, "{runtime.FILENAME}")' in text
        assert "def _sql(" not in text and "LOCK_TIMEOUT" not in text  # the helpers live in the module only
        steps = [int(n.name.removeprefix("_step_")) for n in ast.walk(tree)
                 if isinstance(n, ast.FunctionDef) and n.name.startswith("_step_")]
        for fn in ("upgrade", "downgrade"):
            body = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == fn)
            numbers = [int(n.name.removeprefix("_step_")) for n in ast.walk(body)
                       if isinstance(n, ast.FunctionDef) and n.name.startswith("_step_")]
            assert numbers == list(range(1, len(numbers) + 1)), (f.name, fn, numbers)
        assert steps or "with_lock_retry" not in text

    # a second plan into the same project leaves the identical module as it is
    before = module.stat().st_mtime_ns
    (tmp_path / "new2.sql").write_text(NEW + "CREATE INDEX pets_status_idx ON pets (status);\n")
    _plan(new, str(tmp_path / "new2.sql"), "--alembic", str(proj / "alembic.ini"))
    assert module.stat().st_mtime_ns == before
    assert sorted(p.name for p in (proj / "migrations").glob("planner_runtime_*.py")) == [runtime.FILENAME]


def test_count_printed_is_the_revisions_not_the_runtime_module(tmp_path: Path):
    """The runtime module is written beside the revisions, but is no revision: not counted."""
    old, new = _sources(tmp_path)
    proj = tmp_path / "proj"
    result = CliRunner().invoke(app, ["plan", old, new, "--init", str(proj)])
    assert result.exit_code == 0, result.output
    revisions = sorted((proj / "migrations" / "versions").glob("*.py"))
    assert (proj / "migrations" / runtime.FILENAME).is_file()
    assert f"{len(revisions)} revision(s) written" in result.stderr, result.stderr


def test_modified_module_is_an_error_not_overwritten(tmp_path: Path):
    old, new = _sources(tmp_path)
    proj = tmp_path / "proj"
    _plan(old, new, "--init", str(proj))
    module = proj / "migrations" / runtime.FILENAME
    module.write_text(runtime.RUNTIME.replace('LOCK_TIMEOUT = "1s"', 'LOCK_TIMEOUT = "9s"'))
    versions = sorted((proj / "migrations" / "versions").glob("*.py"))
    (tmp_path / "new2.sql").write_text(NEW + "CREATE INDEX pets_status_idx ON pets (status);\n")
    result = CliRunner().invoke(app, ["plan", new, str(tmp_path / "new2.sql"), "--alembic",
                                      str(proj / "alembic.ini"), "-q"])
    assert result.exit_code == 2, result.output
    assert runtime.FILENAME in result.output and "modified" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert 'LOCK_TIMEOUT = "9s"' in module.read_text()  # left as the user made it
    assert sorted((proj / "migrations" / "versions").glob("*.py")) == versions  # nothing written


def test_an_older_version_stays_beside_the_new_one(tmp_path: Path):
    """Revisions written by an earlier planner load their own version by name: it is kept."""
    old, new = _sources(tmp_path)
    proj = tmp_path / "proj"
    _plan(old, new, "--init", str(proj))
    older = proj / "migrations" / "planner_runtime_v0.py"
    older.write_text('"""an earlier planner\'s helpers"""\n')
    (tmp_path / "new2.sql").write_text(NEW + "CREATE INDEX pets_status_idx ON pets (status);\n")
    _plan(new, str(tmp_path / "new2.sql"), "--alembic", str(proj / "alembic.ini"))
    assert older.read_text() == '"""an earlier planner\'s helpers"""\n'


@pytest.mark.postgres
def test_users_own_env_py_online_and_offline(tmp_path: Path, pg_url: str):
    """`alembic init` + the user's env.py (not planner's): the revisions find their runtime
    module through Alembic itself, online (upgrade, downgrade) and offline (--sql)."""
    old, new = _sources(tmp_path)
    build_schema(pg_url, load_source(old).schema)
    engine = sa.create_engine(pg_url)
    with engine.begin() as c:
        c.exec_driver_sql("INSERT INTO pets SELECT g, 'pet ' || g, 4 FROM generate_series(1, 50) g")
    ini = _user_project(tmp_path, sa.make_url(pg_url).set(drivername="postgresql+psycopg")
                        .render_as_string(hide_password=False))
    env_py = (tmp_path / "migrations" / "env.py").read_text()
    _plan(old, new, "--alembic", str(ini))
    assert (tmp_path / "migrations" / "env.py").read_text() == env_py
    assert (tmp_path / "migrations" / runtime.FILENAME).is_file()
    offline = _alembic(ini, "upgrade", "head", "--sql", url=pg_url)
    assert offline.returncode == 0, offline.stderr
    assert 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "pets_name_idx"' in offline.stdout
    assert "SET lock_timeout = '1s'" in offline.stdout
    for args in (["upgrade", "head"], ["downgrade", "base"]):
        r = _alembic(ini, *args, url=pg_url)
        assert r.returncode == 0, r.stdout + r.stderr
    with engine.begin() as c:
        assert c.exec_driver_sql("SELECT count(*), sum(legs) FROM pets").one() == (50, 200)
    engine.dispose()


# --------------------------------------------------------------------------- generated code style

OLD_MANY = ("CREATE TABLE owners (id integer PRIMARY KEY, name varchar(50));\n"
            "CREATE TABLE pets (id integer PRIMARY KEY, name text, legs integer, owner_id integer, kind varchar(20));\n"
            "CREATE INDEX pets_kind_idx ON pets (kind);\n")
#: several change kinds at once: type changes, NOT NULL with a backfill, a default, a named
#: foreign key, a CHECK, a unique and a plain index, a dropped index and column, a new table
NEW_MANY = ("CREATE TABLE owners (id integer PRIMARY KEY, name varchar(80) NOT NULL, email varchar(200));\n"
            "CREATE TABLE pets (id integer PRIMARY KEY, name varchar(80), "
            "owner_id integer CONSTRAINT pets_owner_fk REFERENCES owners (id), kind varchar(20) NOT NULL, "
            "status text NOT NULL DEFAULT 'new', CONSTRAINT pets_status_check CHECK (status <> ''));\n"
            "CREATE INDEX pets_name_idx ON pets (name);\n"
            "CREATE UNIQUE INDEX pets_owner_name_key ON pets (owner_id, name);\n"
            "CREATE TABLE visits (id integer PRIMARY KEY, pet_id integer NOT NULL "
            "CONSTRAINT visits_pet_fk REFERENCES pets (id), at timestamp NOT NULL);\n")


def _many_project(tmp_path: Path, dialect: str, *, cleanup: bool = False) -> Path:
    """An --init project of OLD_MANY -> NEW_MANY in `dialect` (and its cleanup revision)."""
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text(OLD_MANY)
    new.write_text(NEW_MANY)
    config = tmp_path / "planner.toml"
    config.write_text("[backfill]\n\"owners.name\" = \"'unknown'\"\n\"pets.kind\" = \"'dog'\"\n")
    proj = tmp_path / "proj"
    common = [str(old), str(new), "--dialect", dialect, "--config", str(config)]
    _plan(*common, "--init", str(proj))
    if cleanup:
        _plan(*common, "--alembic", str(proj / "alembic.ini"), "--cleanup")
    return proj


def _ruff() -> list[str]:
    import shutil

    exe = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(exe).is_file():
        pytest.skip("ruff is not installed (pip install -e '.[dev]')")
    return [exe]


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite"])
def test_generated_project_passes_ruff_with_its_defaults(tmp_path: Path, dialect: str):
    """`ruff check` and `ruff format --check` with ruff's own defaults (no project config) on
    everything planner writes: env.py, the runtime module, the revisions and the cleanup."""
    proj = _many_project(tmp_path, dialect, cleanup=True)
    revisions = sorted((proj / "migrations" / "versions").glob("*.py"))
    assert len(revisions) >= 3
    text = "\n".join(f.read_text() for f in revisions)
    assert "rt.with_lock_retry(_step_1)" in text or dialect == "sqlite"
    assert 'rt.guard(\n        """\n        SELECT count(*)' in text  # guard SQL as a block, not \n escapes
    for args in (["check", "--isolated", "--no-cache", "."], ["format", "--isolated", "--no-cache", "--check", "."]):
        r = subprocess.run([*_ruff(), *args], cwd=proj, capture_output=True, text=True, check=False)
        assert r.returncode == 0, r.stdout + r.stderr
    for f in revisions:
        assert not any(line != line.rstrip() for line in f.read_text().splitlines()), f.name


HOSTILE = ["plain", 'say "hi"', "it's", "both ' and \"", 'x"""y', "back\\slash", "new\nline", "tab\there",
           "\u2028sep", "\x00nul", "é ü ✓", '"', "'", '"""', "\\", "end\"", "q'q\"q\"",
           "a" * 120, 'long "quoted" ' * 10]


def test_formatter_keeps_every_value_and_passes_ruff(tmp_path: Path):
    from planner.plan import pyformat

    names = [repr(h) for h in HOSTILE]
    code = "\n".join([
        *(f"rt.sql({n})" for n in names),
        *(f"op.add_column({n}, sa.Column({n}, sa.Integer(), nullable=True), schema={n})" for n in names),
        *(f"rt.guard({repr('SELECT count(*) FROM ' + chr(10) + h.join(chr(34) * 2) + chr(10) + 'WHERE 1 = 1')}, {n})"
          for h, n in zip(HOSTILE, names, strict=True)),
        "with op.get_context().autocommit_block():",
        "    def _step_1() -> None:",
        *(f"        rt.alter({n}, ', ALGORITHM=INSTANT', ', ALGORITHM=INPLACE, LOCK=NONE')" for n in names),
        "",
        "    rt.with_lock_retry(_step_1)  # trailing comment",
    ])
    out = pyformat.body(code)
    assert out != "\n".join("    " + ln if ln.strip() else "" for ln in code.splitlines())  # formatted, no fallback
    original = [n.value for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Constant)]
    formatted = [n.value for n in ast.walk(ast.parse("def f():\n" + out)) if isinstance(n, ast.Constant)]
    assert len(original) == len(formatted)
    for a, b in zip(original, formatted, strict=True):
        # only SQL blocks gain indentation, and only at newlines outside quotes
        assert a == b or (pyformat._sql_words(a) == pyformat._sql_words(b) and "\n" in b), (a, b)
    module = tmp_path / "m.py"
    module.write_text("def upgrade() -> None:\n" + out + "\n")
    r = subprocess.run([*_ruff(), "format", "--isolated", "--no-cache", "--check", "--diff", str(module)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def _bare_words(sql: str) -> set[str]:
    """The words of `sql` outside comments, literals, quoted names and dollar-quoted bodies."""
    import re

    sql = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    sql = re.sub(r"\$(\w*)\$.*?\$\1\$", " ", sql, flags=re.S)
    sql = re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`", " ", sql)
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_$]*", sql))


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite"])
def test_every_identifier_quoted_offline_without_private_api(tmp_path: Path, dialect: str):
    """No SQLAlchemy internals are patched: the revisions name tables, columns, indexes and
    constraints as quoted_name(..., quote=True) (`rt.q`, `rt.refs`), and SQLAlchemy quotes
    every one of them in the --sql script, lower-case names too."""
    assert "_requires_quotes" not in runtime.RUNTIME and "._strings" not in runtime.RUNTIME
    proj = _many_project(tmp_path, dialect)
    url = {"postgresql": "postgresql://offline@localhost/offline", "mysql": "mysql://offline@localhost/offline",
           "sqlite": "sqlite://"}[dialect]
    up = _alembic(proj / "alembic.ini", "upgrade", "head", "--sql", url=url)
    assert up.returncode == 0, up.stderr
    down = _alembic(proj / "alembic.ini", "downgrade", "head:base", "--sql", url=url)
    assert down.returncode == 0, down.stderr
    sql = up.stdout + down.stdout
    if dialect == "sqlite":  # Alembic's batch copy names its temporary table and FK targets itself
        import re

        sql = re.sub(r"REFERENCES \w+ \(\w+\)|_alembic_tmp_\w+", "", sql)
    names = {"owners", "pets", "visits", "name", "email", "kind", "status", "legs", "owner_id", "pet_id", "at",
             "pets_name_idx", "pets_owner_name_key", "pets_kind_idx", "pets_owner_fk", "visits_pet_fk",
             "pets_status_check"}
    assert "pets" in sql and "CREATE" in sql
    assert not (_bare_words(sql) & names), sorted(_bare_words(sql) & names)


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_partial_index_where_is_quoted(tmp_path: Path, dialect: str):
    """A partial index's WHERE names its columns quoted too (created in expand, dropped again
    by the downgrade, the SQLite rebuild keeping it)."""
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text("CREATE TABLE pets (id integer PRIMARY KEY, name text, gone_at timestamp, legs integer);\n")
    new.write_text("CREATE TABLE pets (id integer PRIMARY KEY, name text, gone_at timestamp, legs integer NOT NULL "
                   "DEFAULT 4);\nCREATE UNIQUE INDEX pets_live_name ON pets (name) WHERE gone_at IS NULL AND legs > 2;\n")
    proj = tmp_path / "proj"
    _plan(str(old), str(new), "--dialect", dialect, "--init", str(proj))
    url = {"postgresql": "postgresql://offline@localhost/offline", "sqlite": "sqlite://"}[dialect]
    up = _alembic(proj / "alembic.ini", "upgrade", "head", "--sql", url=url)
    assert up.returncode == 0, up.stderr
    assert "WHERE" in up.stdout and '"gone_at" IS NULL' in up.stdout, up.stdout
    assert not (_bare_words(up.stdout) & {"gone_at", "legs", "name", "pets"})


# --------------------------------------------------------------------------- a guard's stop (issue 16)

@pytest.mark.postgres
def test_guard_stop_is_one_line_with_samples_check_and_setting(tmp_path: Path, pg_url: str):
    """A guard that finds offending rows stops `alembic upgrade` with one line (Alembic's
    FAILED, no traceback): how many, a few sample rows, the `planner check` command that lists
    them all and the setting that resolves it; the traceback only with `alembic --raiseerr`."""
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text("CREATE TABLE pets (id integer PRIMARY KEY, name text, kind text);\n")
    new.write_text("CREATE TABLE pets (id integer PRIMARY KEY, name text NOT NULL, kind varchar(3));\n")
    build_schema(pg_url, load_source(str(old)).schema)
    engine = sa.create_engine(pg_url)
    with engine.begin() as c:
        c.exec_driver_sql("INSERT INTO pets SELECT g, CASE WHEN mod(g, 4) = 0 THEN NULL ELSE 'p' || g END, "
                          "CASE WHEN mod(g, 3) = 0 THEN 'hamster' ELSE 'dog' END FROM generate_series(1, 20) g")
    proj = tmp_path / "proj"
    _plan(str(old), str(new), "--init", str(proj))
    ini = proj / "alembic.ini"

    def stop(*args: str) -> str:
        r = _alembic(ini, *args, url=pg_url)
        output = r.stdout + r.stderr
        assert r.returncode != 0, output
        assert "Traceback" not in output, output
        failed = [line for line in output.splitlines() if line.startswith("FAILED:")]
        assert len(failed) == 1, output
        return failed[0]

    line = stop("upgrade", "head")
    assert line.startswith("FAILED: planner guard failed: Values of pets.kind that are longer than 3 characters")
    assert ": 6 found, expected 0 (e.g. id=3, kind='hamster'; id=6, kind='hamster'; id=9, kind='hamster')" in line
    assert "no DDL was run" in line
    assert f"See every row: planner check {old} {new} --db URL." in line
    assert 'Resolve: set [tool.planner.convert] "pets.kind" = "<SQL expression>"' in line
    with engine.begin() as c:  # nothing of the revision ran
        assert c.exec_driver_sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'pets' "
                                 "AND column_name = 'kind__planner_new'").scalar() == 0
    verbose = _alembic(ini, "--raiseerr", "upgrade", "head", url=pg_url)
    assert verbose.returncode != 0 and "Traceback" in verbose.stderr and "CommandError" in verbose.stderr

    with engine.begin() as c:
        c.exec_driver_sql("UPDATE pets SET kind = 'cat'")
    line = stop("upgrade", "head")  # the expand revision runs; the NOT NULL guard stops the next one
    assert "Rows of pets where name IS NULL" in line and ": 5 found, expected 0 (e.g. id=4, name=NULL;" in line
    assert 'Resolve: set [tool.planner.backfill] "pets.name" = "<SQL expression>", then plan again.' in line
    engine.dispose()


@pytest.mark.parametrize(("statement", "target"), [
    ('ALTER TABLE "orders" ADD COLUMN "note" TEXT', ('"orders"', "ACCESS EXCLUSIVE")),
    ('ALTER TABLE IF EXISTS ONLY "s"."a""b" DROP COLUMN "x"', ('"s"."a""b"', "ACCESS EXCLUSIVE")),
    # as SQLAlchemy writes it (no space before the bracket)
    ('ALTER TABLE "orders" ADD CONSTRAINT "fk" FOREIGN KEY(user_id) REFERENCES "users" (id) NOT VALID',
     ('"orders"', "SHARE ROW EXCLUSIVE")),
    ('ALTER TABLE "orders" DROP CONSTRAINT "fk"', ('"orders"', "ACCESS EXCLUSIVE")),
    ('LOCK TABLE "public"."users" IN SHARE ROW EXCLUSIVE MODE', ('"public"."users"', "SHARE ROW EXCLUSIVE")),
    ('LOCK TABLE "users" IN EXCLUSIVE MODE', ('"users"', "ACCESS EXCLUSIVE")),
    ('LOCK TABLE "users"', ('"users"', "ACCESS EXCLUSIVE")),
    ('DROP TRIGGER IF EXISTS "a ON b" ON "users"', ('"users"', "ACCESS EXCLUSIVE")),
    ("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'x' AND tgrelid = '\"t\"'::regclass) "
     'THEN CREATE TRIGGER "x" BEFORE INSERT OR UPDATE ON "t" FOR EACH ROW EXECUTE FUNCTION "f"(); END IF; END $$',
     ('"t"', "SHARE ROW EXCLUSIVE")),
    # not a table wait it can tell (an index rename locks the index; a type is not a table)
    ('ALTER INDEX "users_email_idx" RENAME TO "users_email_key"', None),
    ("ALTER TYPE \"mood\" RENAME VALUE 'a' TO 'b'", None),
    # words in a backfill block's message are not statements
    ("DO $$ BEGIN RAISE EXCEPTION 'rows stayed locked (lock timeout each)'; END $$", None),
])
def test_the_table_a_timed_out_statement_waited_for(statement: str, target: tuple[str, str] | None):
    """A step that times out names the table it waited for (the error does not): the runtime
    reads it, and the mode to take it in, from the statement, and the revision locks it first
    when it runs again."""
    from planner.plan import migration_runtime as rt

    assert rt._target(statement) == target
