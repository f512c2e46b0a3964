"""Hostile names: reserved words, quotes, spaces, mixed case, backticks and unicode."""

from __future__ import annotations

import sqlalchemy as sa


def build(*, with_checks: bool = True) -> sa.MetaData:
    md = sa.MetaData()
    user = sa.Table(
        "user", md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("select", sa.Integer, nullable=False, server_default="0"),
        sa.Column("Mixed Case", sa.String(20)),
        sa.Column('quote"d', sa.String(20)),
        sa.Column("ünïcödé", sa.String(20), comment="ünï comment"),
        sa.Column("back`tick", sa.Integer),
        sa.UniqueConstraint("Mixed Case", 'quote"d', name='uq "user" mixed'),
        comment="it's a \"user\" table",
    )
    if with_checks:
        user.append_constraint(sa.CheckConstraint(user.c.select >= 0, name="select check"))
    order = sa.Table(
        "order", md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user", sa.Integer, sa.ForeignKey("user.id", name='fk "order" user', ondelete="CASCADE")),
        sa.Column("with space", sa.String(50)),
        sa.Column("ünï", sa.Integer),
        sa.Column("group", sa.Integer, unique=True),
    )
    sa.Index("idx with space", order.c["with space"], order.c["ünï"].desc())
    sa.Index('ix "quoted"', user.c["Mixed Case"])
    sa.Table(
        'we"ird table', md,
        sa.Column("Id", sa.Integer, primary_key=True),
        sa.Column("order", sa.Integer, sa.ForeignKey("order.id")),
    )
    return md


metadata = build()
metadata_no_checks = build(with_checks=False)
