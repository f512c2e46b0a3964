"""MySQL/MariaDB run DDL outside transactions: a revision stopped halfway (an inline guard, a
lock wait given up) leaves its earlier steps done. Running it again must finish it, not fail
on what is already there (a foreign key dropped, a column added)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from planner.cli import app

pytestmark = pytest.mark.mysql

OLD = """CREATE TABLE orgs (id int NOT NULL, name varchar(50), PRIMARY KEY (id));
CREATE TABLE teams (id int NOT NULL, PRIMARY KEY (id));
CREATE TABLE users (id int NOT NULL, org_id int NOT NULL, team_id int NOT NULL, note varchar(20), PRIMARY KEY (id),
  CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id),
  CONSTRAINT users_team_fk FOREIGN KEY (team_id) REFERENCES teams (id));
"""
NEW = """CREATE TABLE orgs (id bigint NOT NULL, name varchar(50), PRIMARY KEY (id));
CREATE TABLE teams (id bigint NOT NULL, PRIMARY KEY (id));
CREATE TABLE users (id int NOT NULL, org_id bigint NOT NULL, team_id bigint NOT NULL, note varchar(200),
  nick varchar(20), PRIMARY KEY (id),
  CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id),
  CONSTRAINT users_team_fk FOREIGN KEY (team_id) REFERENCES teams (id));
"""


def _alembic(ini: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "alembic", "-c", str(ini), "-x", f"db={url}", *args],
                          capture_output=True, text=True, timeout=300)


def _project(tmp_path: Path, mysql_url: str) -> tuple[Path, str, sa.Engine]:
    """OLD -> NEW planned into tmp_path/p and OLD created in the database: (alembic.ini, the
    contract revision's text, an engine)."""
    (tmp_path / "old.sql").write_text(OLD)
    (tmp_path / "new.sql").write_text(NEW)
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "old.sql"), str(tmp_path / "new.sql"), "-d", "mysql",
                                 "--init", str(tmp_path / "p"), "--rev-id-seed", "t", "-q"])
    assert r.exit_code == 0, r.output
    contract = next((tmp_path / "p" / "migrations" / "versions").glob("*contract*.py")).read_text()
    engine = sa.create_engine(mysql_url)
    with engine.begin() as c:
        for stmt in OLD.split(";")[:-1]:
            c.exec_driver_sql(stmt)
    return tmp_path / "p" / "alembic.ini", contract, engine


def test_a_revision_stopped_by_its_inline_guard_finishes_when_run_again(tmp_path: Path, mysql_url: str):
    """Each foreign key over widened columns is dropped before the MODIFYs and added back
    after an inline orphan check. An orphan of the second key written meanwhile (here: before,
    with the checks off) stops the revision after the first key was added back; once it is
    fixed, the same command finishes the revision: the steps an earlier run did are skipped
    (their notes are committed at once: the stop rolls back the revision's transaction, and
    the first version of the journal lost the last note with it, so the re-run added the
    first key again: 1826 Duplicate FOREIGN KEY constraint name). `users.note` widens by R8's
    swap in the same contract: the re-run's pre-flight guard, which reads the shadow column the
    swap has dropped since, used to stop every later run (1054 Unknown column); it is skipped in
    a run that resumes one the journal knows."""
    ini, contract, engine = _project(tmp_path, mysql_url)
    with engine.begin() as c:
        c.exec_driver_sql("INSERT INTO orgs VALUES (1, 'a'), (2, 'b')")
        c.exec_driver_sql("INSERT INTO teams VALUES (1), (2)")
        c.exec_driver_sql("INSERT INTO users VALUES (1, 1, 1, 'x'), (2, 2, 2, 'y')")
        c.exec_driver_sql("SET SESSION foreign_key_checks = 0")
        c.exec_driver_sql("INSERT INTO users VALUES (3, 1, 99, 'orphan')")
    first = _alembic(ini, mysql_url, "upgrade", "head")
    assert first.returncode != 0
    assert "users_team_fk" in first.stderr and "run it again" in first.stderr, first.stderr[-1500:]
    with engine.begin() as c:
        c.exec_driver_sql("DELETE FROM users WHERE id = 3")
    again = _alembic(ini, mysql_url, "upgrade", "head")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "an earlier run that stopped began" in again.stderr and "guard skipped" in again.stderr
    insp = sa.inspect(sa.create_engine(mysql_url))
    assert sorted(fk["name"] for fk in insp.get_foreign_keys("users")) == ["users_org_fk", "users_team_fk"]
    assert str(next(c["type"] for c in insp.get_columns("users") if c["name"] == "org_id")).startswith("BIGINT")
    # and back: the downgrade runs every step (the upgrade's record of its steps is not the
    # downgrade's), then the upgrade again from the start
    down = _alembic(ini, mysql_url, "downgrade", "base")
    assert down.returncode == 0, down.stderr[-2000:]
    assert "an earlier run that stopped" not in down.stderr
    up = _alembic(ini, mysql_url, "upgrade", "head")
    assert up.returncode == 0, up.stderr[-2000:]
    assert "an earlier run that stopped" not in up.stderr


def test_a_statement_the_server_finished_after_its_client_was_cut_off(tmp_path: Path, mysql_url: str):
    """A deploy job killed while MySQL runs a step's DDL: the server finishes the statement
    (an ALTER ... COPY goes on without its client), but the run never learns it, so the journal
    did not say the step was done, and running the revision again repeated it (1091 Can't
    DROP FOREIGN KEY, 1054 Unknown column 'note__planner_new' on the swap). The journal now
    notes each statement before it runs: a re-run skips the statements the earlier run had
    finished and takes the one it was cut off in as done when the server says its work is
    there. The state is the one a kill in the swap's ALTER leaves (found by a helper killing
    migrations at random): the swap done on the server, the journal at its third statement,
    the foreign keys not yet added back."""
    ini, contract, engine = _project(tmp_path, mysql_url)
    swap = contract[contract.index("def _step_5"):contract.index("rt.with_lock_retry(_step_5)")]
    assert "rt.write_locked" in swap and swap.count("DROP TRIGGER") == 2 and "CHANGE COLUMN" in swap, swap
    with engine.begin() as c:
        c.exec_driver_sql("INSERT INTO orgs VALUES (1, 'a')")
        c.exec_driver_sql("INSERT INTO teams VALUES (1)")
        c.exec_driver_sql("INSERT INTO users VALUES (1, 1, 1, 'x')")
    done = _alembic(ini, mysql_url, "upgrade", "head")
    assert done.returncode == 0, done.stderr[-2000:]
    with engine.begin() as c:  # back to the moment of the kill
        c.exec_driver_sql("ALTER TABLE users DROP FOREIGN KEY users_org_fk, DROP FOREIGN KEY users_team_fk")
        backfill = c.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        rev = contract.split('revision: str = "')[1].split('"')[0]
        down = contract.split('down_revision: str | Sequence[str] | None = "')[1].split('"')[0]
        c.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{down}' WHERE version_num = '{backfill}'")
        c.exec_driver_sql(f"UPDATE planner_backup__steps SET state = 'running', at = 3, done_at = NULL "
                          f"WHERE revision = '{rev}' AND direction = 'upgrade' AND step REGEXP '^_step_5:'")
        assert c.exec_driver_sql("SELECT count(*) FROM planner_backup__steps WHERE state = 'running'").scalar() == 1
        c.exec_driver_sql(f"DELETE FROM planner_backup__steps WHERE revision = '{rev}' AND direction = 'upgrade' "
                          "AND step REGEXP '^_step_[6-9]:'")
    again = _alembic(ini, mysql_url, "upgrade", "head")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "the run that stopped did it" in again.stderr, again.stderr[-2000:]
    insp = sa.inspect(sa.create_engine(mysql_url))
    assert sorted(fk["name"] for fk in insp.get_foreign_keys("users")) == ["users_org_fk", "users_team_fk"]
    columns = {c["name"]: str(c["type"]) for c in insp.get_columns("users")}
    assert "note__planner_new" not in columns and columns["note"].startswith("VARCHAR(200)"), columns
    with engine.begin() as c:
        assert c.exec_driver_sql("SELECT note FROM users WHERE id = 1").scalar() == "x"
        assert c.exec_driver_sql("SELECT count(*) FROM planner_backup__steps WHERE state <> 'done'").scalar() == 0


def test_a_downgrade_cut_off_after_dropping_its_backup_finishes_when_run_again(tmp_path: Path, mysql_url: str):
    """The contract's downgrade puts `users.note` back from its backup, swaps the columns back
    and drops the backup. Cut off after the drop (found by a helper killing migrations: the
    drop ran right after the restore, before the swap back), a re-run restored from the backup
    that was gone (1146) every time. The backup is dropped at the end of the downgrade now, and
    in a run that resumes one the journal knows, a walk whose table or column a done step removed
    is skipped. The state is the one a kill after the drop leaves: every step done, the version
    not yet stamped."""
    ini, contract, engine = _project(tmp_path, mysql_url)
    rev = contract.split('revision: str = "')[1].split('"')[0]
    down_rev = contract.split('down_revision: str | Sequence[str] | None = "')[1].split('"')[0]
    with engine.begin() as c:
        c.exec_driver_sql("INSERT INTO orgs VALUES (1, 'a')")
        c.exec_driver_sql("INSERT INTO teams VALUES (1)")
        c.exec_driver_sql("INSERT INTO users VALUES (1, 1, 1, 'x'), (2, 1, 1, 'y')")
    assert _alembic(ini, mysql_url, "upgrade", "head").returncode == 0
    down = _alembic(ini, mysql_url, "downgrade", "-1")
    assert down.returncode == 0, down.stderr[-2000:]
    with engine.begin() as c:  # cut off before the version was stamped
        c.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{rev}' WHERE version_num = '{down_rev}'")
    again = _alembic(ini, mysql_url, "downgrade", "-1")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "planner restore users.note skipped" in again.stderr, again.stderr[-2000:]
    insp = sa.inspect(sa.create_engine(mysql_url))
    columns = {c["name"]: str(c["type"]) for c in insp.get_columns("users")}
    assert columns["note"].startswith("VARCHAR(20)") and "note__planner_old" not in columns, columns
    assert sorted(fk["name"] for fk in insp.get_foreign_keys("users")) == ["users_org_fk", "users_team_fk"]
    with engine.begin() as c:
        assert c.exec_driver_sql("SELECT note FROM users ORDER BY id").scalars().all() == ["x", "y"]
        assert c.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == down_rev
