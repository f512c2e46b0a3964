"""Passwords never leak: every command, run through the CLI with a password in the database URL
(user:password, ?password=, a malformed URL with an unencoded '@', an unreachable host), keeps
it out of stdout, stderr, log lines, tracebacks and every file it writes. Also: rename hints
are shell-quoted, and --debug keeps the exit code of a bad input (2)."""

from __future__ import annotations

import json
import logging
import shlex
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from planner.cli import app
from planner.urls import mask_url, redact, url_secrets

from .conftest import SAMPLES, run_sql
from .test_checks_cli import CENTURION_DATA, CENTURION_OLD_DDL

runner = CliRunner()
CENTURION = SAMPLES / "centurion-money-enum-unique"
OLD, NEW = str(CENTURION / "old.prisma"), str(CENTURION / "new.prisma")
RENAME = ("--rename", "Role.COACH=INSTRUCTOR")
#: in every password below; must appear nowhere
SECRET = "S3cr3t"


def with_password(url: str) -> dict[str, str]:
    """`url` with a password, three ways (PostgreSQL under trust auth accepts any password)."""
    u = sa.make_url(url).set(password=None)
    plain = u.render_as_string(hide_password=False)
    user, rest = plain.split("://", 1)[1].split("@", 1)
    scheme = plain.split("://", 1)[0]
    return {
        "userinfo": u.set(password=f"{SECRET}PW").render_as_string(hide_password=False),
        "query": u.update_query_dict({"password": f"{SECRET}PW"}).render_as_string(hide_password=False),
        "malformed": f"{scheme}://{user}:{SECRET}@PW@{rest}",
    }


def unreachable() -> dict[str, str]:
    return {
        "unreachable-userinfo": f"postgresql+psycopg://postgres:{SECRET}PW@127.0.0.1:1/nothing",
        "unreachable-query": f"postgresql+psycopg://postgres@127.0.0.1:1/nothing?PassWord={SECRET}PW",
    }


def invoke(*args: str):
    r = runner.invoke(app, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r


def assert_no_secret(r, where: Path | None = None, caplog: pytest.LogCaptureFixture | None = None) -> None:
    assert SECRET not in r.stdout, r.stdout
    assert SECRET not in r.stderr, r.stderr
    if caplog is not None:
        assert SECRET not in caplog.text, caplog.text
    if where is not None:
        for f in where.rglob("*"):
            assert SECRET not in str(f.relative_to(where)), f
            if f.is_file():
                assert SECRET.encode() not in f.read_bytes(), f


@pytest.fixture
def centurion_db(pg_url: str) -> str:
    run_sql(pg_url, CENTURION_OLD_DDL + CENTURION_DATA)
    return pg_url


# --------------------------------------------------------------------------- mask_url

@pytest.mark.parametrize(("url", "masked"), [
    ("postgresql://u:S3cr3tPW@h:5432/db", "postgresql://u:***@h:5432/db"),
    ("postgresql://u@h/db?password=S3cr3tPW", "postgresql://u@h/db?password=***"),
    ("postgresql://u@h/db?schema=public&PASSWD=S3cr3tPW&sslpassword=S3cr3tPW&pwd=S3cr3tPW",
     "postgresql://u@h/db?PASSWD=***&pwd=***&schema=public&sslpassword=***"),  # SQLAlchemy sorts them
    ("postgresql://u:S3cr3t@PW@h/db", "postgresql://***@h/db"),
    ("postgresql://u:S3cr3t@PW:5432@h:5432/db?password=S3cr3t", "postgresql://***@h:5432/db?password=***"),
    ("postgresql://u:S3cr3t%40PW@h/db", "postgresql://u:***@h/db"),
    ("not a url://u:S3cr3t@h", "not a url://***@h"),  # unparsable: masked up to the last '@'
    ("sample_schemas/x/old.prisma", "sample_schemas/x/old.prisma"),
    ("sqlite:///tmp/db.sqlite", "sqlite:///tmp/db.sqlite"),
])
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked
    assert mask_url(masked) == masked  # masking twice changes nothing


def test_redact_scrubs_secrets_as_written_and_decoded() -> None:
    url = "postgresql://u:S3cr3t%40PW@h/db?password=S3cr3t2"
    assert set(url_secrets(url)) >= {"S3cr3t%40PW", "S3cr3t@PW", "S3cr3t2"}
    text = redact(f"could not connect to {url}: password S3cr3t@PW rejected, S3cr3t2 too", [url])
    assert SECRET not in text and "postgresql://u:***@h/db?password=***" in text


# --------------------------------------------------------------------------- every command

@pytest.mark.postgres
@pytest.mark.parametrize("form", ["userinfo", "query"])
def test_every_command_keeps_the_password_out(centurion_db: str, tmp_path: Path, form: str,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = with_password(centurion_db)[form]
    out = tmp_path / "out"
    out.mkdir()
    runs = {
        "diff": invoke("diff", url, NEW, *RENAME),
        "diff json": invoke("diff", url, NEW, *RENAME, "-f", "json"),
        "diff markdown": invoke("diff", url, NEW, *RENAME, "-f", "markdown"),
        "diff --db": invoke("--verbose", "diff", OLD, NEW, *RENAME, "--db", url),
        "check --db": invoke("check", OLD, NEW, *RENAME, "--db", url),
        "check --db json": invoke("check", OLD, NEW, *RENAME, "--db", url, "-f", "json"),
        "check URL --db": invoke("check", url, NEW, *RENAME, "--db", url),
        "check --sql": invoke("check", url, NEW, *RENAME, "--sql"),
        "inspect": invoke("inspect", url),
        "inspect json": invoke("inspect", url, "-f", "json"),
        "plan --init": invoke("plan", url, NEW, *RENAME, "--init", str(out / "proj")),
    }
    ini = str(out / "proj" / "alembic.ini")
    runs["plan --cleanup"] = invoke("plan", url, NEW, *RENAME, "--alembic", ini, "--cleanup")
    runs["plan --alembic"] = invoke("plan", url, str(SAMPLES / "aegira-missed-checkin-snapshot" / "new.prisma"),
                                    "--alembic", ini, "--rev-id-seed", "x")
    runs["dialect mismatch"] = invoke("diff", url, str(SAMPLES / "orchestration-execution-log" / "new.sql"),
                                      "--dialect", "mysql")
    for name, r in runs.items():
        assert_no_secret(r, caplog=caplog)
        if name not in ("plan --alembic", "dialect mismatch"):
            assert r.exit_code in (0, 1), (name, r.output)
    assert runs["dialect mismatch"].exit_code == 2
    assert mask_url(url) in runs["dialect mismatch"].stderr
    assert "backup table(s) kept" in runs["plan --init"].stderr
    assert "***" in runs["plan --init"].stderr  # the cleanup hint names the URL, masked
    assert mask_url(url) in runs["inspect"].stdout
    assert json.loads(runs["check --db json"].stdout)["checks"]
    revisions = list((out / "proj" / "migrations" / "versions").glob("*.py"))
    assert len(revisions) >= 5 and any("cleanup" in p.name for p in revisions)
    assert any(mask_url(url) in p.read_text() for p in revisions)  # the docstring names the source
    assert_no_secret(runs["plan --init"], out)


@pytest.mark.postgres
@pytest.mark.parametrize("form", ["userinfo", "query"])
def test_verify_keeps_the_password_out(pg_url: str, tmp_path: Path, form: str) -> None:
    url = with_password(pg_url)[form]
    r = invoke("verify", OLD, NEW, *RENAME, "--db", url, "--rows", "3", "--keep")
    assert r.exit_code == 0, r.output
    assert_no_secret(r, tmp_path)
    again = invoke("verify", OLD, NEW, *RENAME, "--db", url)  # kept, so not empty: an error naming the URL
    assert again.exit_code == 2 and mask_url(url) in again.stderr
    assert_no_secret(again)


@pytest.mark.postgres
def test_a_password_with_an_unencoded_at_is_refused_masked(pg_url: str, tmp_path: Path) -> None:
    url = with_password(pg_url)["malformed"]
    commands = [("diff", url, NEW), ("diff", OLD, NEW, "--db", url), ("check", OLD, NEW, "--db", url),
                ("check", url, NEW, "--sql"), ("inspect", url), ("verify", OLD, NEW, "--db", url),
                ("plan", url, NEW, "--init", str(tmp_path / "proj")), ("--debug", "inspect", url)]
    for args in commands:
        r = invoke(*args)
        assert r.exit_code == 2, (args, r.output)
        assert "percent-encode" in r.stderr and "PW@" not in r.stderr
        assert_no_secret(r, tmp_path)


@pytest.mark.parametrize("form", ["unreachable-userinfo", "unreachable-query"])
def test_an_unreachable_server_is_reported_masked(tmp_path: Path, form: str,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = unreachable()[form]
    commands = [("diff", url, NEW), ("diff", OLD, NEW, "--db", url), ("check", OLD, NEW, "--db", url),
                ("inspect", url), ("verify", OLD, NEW, "--db", url),
                ("plan", url, NEW, "--init", str(tmp_path / "proj")),
                ("--debug", "diff", OLD, NEW, "--db", url), ("--verbose", "inspect", url)]
    for args in commands:
        r = invoke(*args)
        assert r.exit_code == 2, (args, r.output)
        assert mask_url(url) in r.stderr, r.stderr
        assert_no_secret(r, tmp_path, caplog)


def test_debug_traceback_is_masked_too(tmp_path: Path) -> None:
    url = unreachable()["unreachable-userinfo"]
    r = invoke("--debug", "inspect", url)
    assert r.exit_code == 2 and "Traceback" in r.stderr
    assert_no_secret(r)


# --------------------------------------------------------------------------- --debug keeps exit 2

@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_keeps_exit_2_for_bad_input_and_prints_the_traceback(tmp_path: Path, where: str) -> None:
    bad = tmp_path / "bad.prisma"
    bad.write_text("model T {\n")
    args = ["inspect", str(bad)]
    r = invoke(*(["--debug", *args] if where == "before" else [*args, "--debug"]))
    assert r.exit_code == 2, r.output
    assert "Traceback (most recent call last)" in r.stderr and "ParseError" in r.stderr
    assert r.stderr.rstrip().splitlines()[-1].startswith("error: ")
    plain = invoke(*args)
    assert plain.exit_code == 2 and "Traceback" not in plain.stderr


def test_debug_keeps_exit_2_for_every_kind_of_input_error(tmp_path: Path) -> None:
    cases = [
        ["diff", str(tmp_path / "missing.prisma"), NEW],  # SourceError
        ["diff", OLD, NEW, "--rename", "Nope.a=b"],  # ConfigError
        ["diff", OLD, NEW, "--fail-on", "bogus"],  # option checked by the command
        ["check", OLD, NEW, "--sql", "--server-version", "x"],
    ]
    for args in cases:
        r = invoke("--debug", *args)
        assert r.exit_code == 2, (args, r.output)
        assert invoke(*args).exit_code == 2


def test_debug_keeps_exit_2_for_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import planner.pipeline

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(planner.pipeline, "analyze", boom)
    r = invoke("--debug", "diff", OLD, NEW)
    assert r.exit_code == 2 and "Traceback" in r.stderr and "internal error: RuntimeError: boom" in r.stderr
    plain = invoke("diff", OLD, NEW)
    assert plain.exit_code == 2 and "Traceback" not in plain.stderr


# --------------------------------------------------------------------------- rename hints

def test_rename_hints_are_shell_quoted(tmp_path: Path) -> None:
    evil = "$(touch pwned)"
    old, new = tmp_path / "old.sql", tmp_path / "new.sql"
    old.write_text(f'CREATE TABLE t (id integer PRIMARY KEY, "{evil}" text);\n')
    new.write_text('CREATE TABLE t (id integer PRIMARY KEY, b text);\n')
    expected = "--rename " + shlex.quote(f"t.{evil}=b")
    assert expected == "--rename 't.$(touch pwned)=b'"
    text = invoke("diff", str(old), str(new))
    assert text.exit_code == 0 and expected in text.stdout
    markdown = invoke("diff", str(old), str(new), "-f", "markdown")
    assert expected in markdown.stdout
    [hint] = [s["hint"] for s in json.loads(invoke("diff", str(old), str(new), "-f", "json").stdout)["suggestions"]]
    assert hint == expected
    # pasted into a shell, the hint is the one argument that confirms the rename
    argv = shlex.split(hint)
    confirmed = invoke("diff", str(old), str(new), *argv, "-f", "json")
    assert [c["kind"] for c in json.loads(confirmed.stdout)["changes"]] == ["rename_column"]
    # plain names stay as they were
    plain = invoke("diff", OLD, NEW)
    assert "--rename Role.COACH=INSTRUCTOR" in plain.stdout
