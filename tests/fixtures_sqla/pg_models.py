"""PostgreSQL models covering what the database and SQLAlchemy loaders must agree on.

The `audit` schema must exist before `metadata.create_all()` (see `SCHEMAS`).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

SCHEMAS = ("audit",)

metadata = sa.MetaData()

account_status = sa.Enum("active", "paused", "closed", name="account_status")
role = sa.Enum("OWNER", "ADMIN", "MEMBER", name="Role")
audit_kind = sa.Enum("insert", "delete", name="audit_kind", schema="audit")

orgs = sa.Table(
    "orgs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),  # SERIAL
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),  # unnamed UNIQUE constraint
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    comment="organisations",
)

accounts = sa.Table(
    "accounts", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("org_id", sa.Integer, sa.ForeignKey("orgs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("email", sa.String(255), nullable=False),
    sa.Column("status", account_status, nullable=False, server_default="active"),
    sa.Column("roles", pg.ARRAY(role), nullable=False, server_default=sa.text("'{}'")),
    sa.Column("tags", pg.ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'::text[]")),
    sa.Column("balance", sa.Numeric(10, 2), nullable=False, server_default="0"),
    sa.Column("delta", sa.Integer, nullable=False, server_default=sa.text("-1")),
    sa.Column("ratio", sa.Float, server_default=sa.text("-0.5")),
    sa.Column("public_id", pg.UUID(as_uuid=True), nullable=False,
              server_default=sa.text("gen_random_uuid()")),
    sa.Column("settings", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("profile", sa.JSON, server_default="{}"),
    sa.Column("country", sa.CHAR(2), server_default="NL"),
    sa.Column("avatar", sa.LargeBinary),
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("nickname", sa.String(50), server_default="anon", comment="display name"),
    sa.Column("seen_at", pg.TIMESTAMP(precision=3)),
    sa.Column("login_at", sa.DateTime(timezone=True)),
    sa.Column("email_lower", sa.Text, sa.Computed("lower(email)", persisted=True)),
    sa.Column("code", sa.String(20, collation="C")),
    sa.Column("legacy_id", sa.Integer, sa.CheckConstraint("legacy_id > 0")),  # column-level, unnamed
    sa.CheckConstraint("balance >= 0", name="accounts_balance_nonneg"),
    sa.CheckConstraint("delta <> 0 OR balance > 0"),  # unnamed, two columns: accounts_check
    sa.UniqueConstraint("org_id", "email", name="accounts_org_email_uq"),
    comment="customer accounts",
)
sa.Index("accounts_email_lower_idx", sa.func.lower(accounts.c.email), unique=True)
sa.Index("accounts_active_email_idx", accounts.c.email, postgresql_where=accounts.c.status == "active")
sa.Index("accounts_settings_gin", accounts.c.settings, postgresql_using="gin",
         postgresql_ops={"settings": "jsonb_path_ops"})
sa.Index("accounts_tags_gin", accounts.c.tags, postgresql_using="gin")
sa.Index("accounts_nickname_pattern", accounts.c.nickname,
         postgresql_ops={"nickname": "varchar_pattern_ops"})
sa.Index("accounts_login_desc", accounts.c.login_at.desc().nulls_last())
sa.Index("accounts_org_seen", accounts.c.org_id, accounts.c.seen_at.desc(),
         postgresql_include=["nickname"])
sa.Index("accounts_code_uq", accounts.c.code, unique=True, postgresql_nulls_not_distinct=True)

memberships = sa.Table(
    "memberships", metadata,
    sa.Column("org_id", sa.Integer, sa.ForeignKey("orgs.id", ondelete="CASCADE", onupdate="CASCADE"),
              primary_key=True),
    sa.Column("account_id", sa.BigInteger,
              sa.ForeignKey("accounts.id", ondelete="RESTRICT", deferrable=True, initially="DEFERRED"),
              primary_key=True),
    sa.Column("role", role, nullable=False, server_default="MEMBER"),
    sa.Column("weight", sa.SmallInteger, server_default=sa.text("1")),
)

invoices = sa.Table(
    "invoices", metadata,
    sa.Column("org_id", sa.Integer, sa.ForeignKey("orgs.id"), primary_key=True, autoincrement=False),
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("total", sa.Numeric(12, 2), nullable=False, server_default="0.00"),
    sa.Column("issued_on", sa.Date, server_default=sa.text("CURRENT_DATE")),
    sa.Column("note", sa.Text, server_default="it's"),
)

invoice_lines = sa.Table(
    "invoice_lines", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),  # BIGSERIAL
    sa.Column("org_id", sa.Integer, nullable=False),
    sa.Column("invoice_number", sa.Integer, nullable=False),
    sa.Column("amount", sa.Numeric(10, 2), nullable=False),
    sa.ForeignKeyConstraint(["org_id", "invoice_number"], ["invoices.org_id", "invoices.number"],
                            ondelete="CASCADE", onupdate="SET NULL", match="FULL"),
)

flags = sa.Table(
    "flags", metadata,
    sa.Column("id", sa.SmallInteger, primary_key=True),  # SMALLSERIAL
    sa.Column("level", sa.Enum("low", "high", name="flag_level", native_enum=False,
                               create_constraint=True), nullable=False, server_default="low"),
    sa.Column("shade", sa.Enum("dark", "light", native_enum=False, create_constraint=True, length=10)),
    sa.Column("on", sa.Boolean(create_constraint=True)),  # native boolean: no CHECK on PostgreSQL
    sa.Column("every", pg.INTERVAL),
    sa.Column("ip", pg.INET),
    sa.Column("doc", sa.Text, sa.Computed("'x' || level", persisted=True)),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("kind", audit_kind, nullable=False),
    sa.Column("account_id", sa.BigInteger, sa.ForeignKey("accounts.id", ondelete="SET NULL")),
    sa.Column("at", sa.DateTime, server_default=sa.text("CURRENT_TIMESTAMP")),
    sa.Column("payload", pg.JSONB),
    schema="audit",
)
