"""A declarative base with a naming convention, plus a callable returning it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=CONVENTION)


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50), unique=True)
    active: Mapped[bool] = mapped_column(server_default=sa.true())


class Player(Base):
    __tablename__ = "players"
    __table_args__ = (
        sa.CheckConstraint("score >= 0", name="score_positive"),
        sa.UniqueConstraint("team_id", "email"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(sa.String(255), index=True)
    score: Mapped[float] = mapped_column(sa.Numeric(10, 2), server_default="0")
    nickname: Mapped[str | None] = mapped_column(default="anon")  # Python-side: not in the database


def get_base() -> type[Base]:
    return Base
