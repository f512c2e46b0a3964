"""Table row estimates from a live database (`--db URL`), read-only and cheap.

PostgreSQL: `pg_class.reltuples` (what ANALYZE last saw; -1/0 for never-analyzed tables falls
back to an exact count of small tables); MySQL: `information_schema.TABLES.TABLE_ROWS`;
SQLite: `count(*)`.
"""

from __future__ import annotations

import sqlalchemy as sa

from planner.errors import SourceError
from planner.load.database import connect_read_only, parse_database_url
from planner.model import DEFAULT_SCHEMA, qualify
from planner.normalize import quote_table
from planner.urls import redact


def row_estimates(url: str) -> dict[str, int]:
    """Table key (as the model names it) -> estimated number of rows."""
    target = parse_database_url(url)
    engine, connection = connect_read_only(target)
    default = target.schema or DEFAULT_SCHEMA[target.dialect]
    out: dict[str, int] = {}
    try:
        with connection as conn:
            if target.dialect == "postgresql":
                rows = conn.execute(sa.text(
                    "SELECT n.nspname, c.relname, c.reltuples::bigint FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') "
                    "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                    "AND n.nspname NOT LIKE 'pg_toast%'")).all()
                for schema, name, est in rows:
                    if est is None or est < 0:  # never analyzed: count it (bounded by the statement timeout)
                        est = conn.execute(sa.text(
                            f"SELECT count(*) FROM {quote_table(schema, name, 'postgresql')}")).scalar_one()
                    out[qualify(schema, name, default)] = int(est)
            elif target.dialect == "mysql":
                rows = conn.execute(sa.text(
                    "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'")).all()
                out = {name: int(n or 0) for name, n in rows}
            else:
                names = sa.inspect(conn).get_table_names()
                for name in names:
                    out[name] = int(conn.execute(sa.text(
                        f"SELECT count(*) FROM {quote_table(None, name, 'sqlite')}")).scalar_one())
    except sa.exc.SQLAlchemyError as e:
        detail = redact(str(e).splitlines()[0], [target.url])
        raise SourceError(f"cannot read table sizes from {target.masked}: {detail}",
                          hint="check the URL and that the user may read the catalog") from None
    finally:
        engine.dispose()
    return out
