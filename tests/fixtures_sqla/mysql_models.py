"""MySQL / MariaDB models: inline ENUM, AUTO_INCREMENT, prefix and FULLTEXT indexes, InnoDB's
implicit foreign-key indexes and MySQL's default key names."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

metadata = sa.MetaData()

orgs = sa.Table(
    "orgs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),  # AUTO_INCREMENT
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),  # unnamed key: `slug`
    sa.Column("created_at", mysql.DATETIME(fsp=3), nullable=False,
              server_default=sa.text("CURRENT_TIMESTAMP(3)")),
    comment="organisations",
)

accounts = sa.Table(
    "accounts", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("org_id", sa.Integer, sa.ForeignKey("orgs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("email", sa.String(191), nullable=False),
    sa.Column("status", sa.Enum("active", "paused", "closed", name="account_status"),
              nullable=False, server_default="active"),
    sa.Column("balance", sa.Numeric(10, 2), nullable=False, server_default="0"),
    sa.Column("delta", sa.Integer, nullable=False, server_default=sa.text("-1")),
    sa.Column("ratio", sa.Float, server_default=sa.text("-0.5")),
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("nickname", sa.String(50, collation="utf8mb4_bin"), server_default="anon",
              comment="display name"),
    sa.Column("bio", sa.Text),
    sa.Column("avatar", sa.LargeBinary),
    sa.Column("data", sa.JSON),
    sa.Column("seen_at", mysql.DATETIME(fsp=3)),
    sa.Column("country", sa.CHAR(2), server_default="NL"),
    sa.UniqueConstraint("org_id", "email", name="accounts_org_email_uq"),  # covers the org FK
    comment="customer accounts",
)
sa.Index("accounts_bio_prefix", accounts.c.bio, mysql_length=20)
sa.Index("accounts_bio_ft", accounts.c.bio, mysql_prefix="FULLTEXT")
sa.Index("accounts_seen_desc", accounts.c.seen_at.desc())
sa.Index("accounts_nickname_uq", accounts.c.nickname, unique=True)
sa.Index("accounts_email_country", accounts.c.email, accounts.c.country, mysql_length={"email": 10})

memberships = sa.Table(
    "memberships", metadata,
    sa.Column("org_id", sa.Integer, sa.ForeignKey("orgs.id", ondelete="CASCADE", onupdate="CASCADE"),
              primary_key=True),  # covered by the primary key
    sa.Column("account_id", sa.BigInteger, sa.ForeignKey("accounts.id"), primary_key=True),  # auto index
    sa.Column("invited_by", sa.BigInteger,
              sa.ForeignKey("accounts.id", name="memberships_inviter_fk", ondelete="SET NULL")),
    sa.Column("role", sa.Enum("OWNER", "MEMBER"), nullable=False, server_default="MEMBER"),
)

invoices = sa.Table(
    "invoices", metadata,
    sa.Column("org_id", sa.Integer, sa.ForeignKey("orgs.id"), primary_key=True, autoincrement=False),
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("total", sa.Numeric(12, 2), nullable=False, server_default="0.00"),
    sa.Column("issued_on", sa.Date),
)

invoice_lines = sa.Table(
    "invoice_lines", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("org_id", sa.Integer, nullable=False),
    sa.Column("invoice_number", sa.Integer, nullable=False),
    sa.Column("account_id", sa.BigInteger, sa.ForeignKey("accounts.id"), index=True),  # explicit index
    sa.Column("amount", sa.Numeric(10, 2), nullable=False),
    sa.ForeignKeyConstraint(["org_id", "invoice_number"], ["invoices.org_id", "invoices.number"],
                            ondelete="CASCADE", onupdate="CASCADE"),
)

#: CHECK constraints and generated columns: MariaDB stores their expressions with every
#: identifier back-quoted, so they compare equal only once normalize.py canonicalises quoting
expressions = sa.MetaData()

ledger = sa.Table(
    "ledger", expressions,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("label", sa.String(50)),
    sa.Column("label_lower", sa.String(50), sa.Computed("lower(label)", persisted=True)),
    sa.Column("amount", sa.Integer, sa.CheckConstraint("amount <> 0"), nullable=False),
    sa.Column("kind", sa.Enum("debit", "credit", native_enum=False, create_constraint=True,
                              name="ledger_kind")),
    sa.Column("done", sa.Boolean(create_constraint=True)),
    sa.CheckConstraint("amount > -1000", name="ledger_amount_floor"),
    sa.CheckConstraint("amount < 1000"),
)
