"""SQLite models: AUTOINCREMENT, partial / expression / DESC indexes, composite keys, CHECKs."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

orgs = sa.Table(
    "orgs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),  # rowid alias, no AUTOINCREMENT keyword
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime, nullable=False, server_default=sa.func.now()),
)

accounts = sa.Table(
    "accounts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("org_id", sa.Integer, sa.ForeignKey("orgs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("email", sa.String(255), nullable=False),
    sa.Column("status", sa.Enum("active", "paused", name="account_status", create_constraint=True),
              nullable=False, server_default="active"),
    sa.Column("balance", sa.Numeric(10, 2), nullable=False, server_default="0"),
    sa.Column("delta", sa.Integer, nullable=False, server_default=sa.text("-1")),
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("nickname", sa.String(50, collation="NOCASE"), server_default="anon"),
    sa.Column("avatar", sa.LargeBinary),
    sa.Column("data", sa.JSON, server_default="{}"),
    sa.Column("seen_at", sa.DateTime),
    sa.Column("total", sa.Integer, sa.Computed("balance * 2", persisted=True)),
    sa.CheckConstraint("balance >= 0", name="accounts_balance_nonneg"),
    sa.CheckConstraint("delta <> 0"),
    sa.UniqueConstraint("org_id", "email", name="accounts_org_email_uq"),
    sa.UniqueConstraint("nickname"),
    sqlite_autoincrement=True,
)
sa.Index("accounts_email_lower_idx", sa.func.lower(accounts.c.email), unique=True)
sa.Index("accounts_active_email_idx", accounts.c.email, sqlite_where=accounts.c.status == "active")
sa.Index("accounts_seen_desc", accounts.c.seen_at.desc(), accounts.c.email)

invoices = sa.Table(
    "invoices", metadata,
    sa.Column("org_id", sa.Integer, sa.ForeignKey("orgs.id"), primary_key=True, autoincrement=False),
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("total", sa.Numeric(12, 2), nullable=False, server_default="0.00"),
)

invoice_lines = sa.Table(
    "invoice_lines", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("org_id", sa.Integer, nullable=False),
    sa.Column("invoice_number", sa.Integer, nullable=False),
    sa.ForeignKeyConstraint(["org_id", "invoice_number"], ["invoices.org_id", "invoices.number"],
                            ondelete="CASCADE", onupdate="SET NULL", deferrable=True,
                            initially="DEFERRED", name="lines_invoice_fk"),
)
