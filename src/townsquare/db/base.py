"""Declarative base, naming convention and the id column shared by every table."""

from datetime import datetime
from typing import Annotated, Any, TypeAlias

from sqlalchemy import BigInteger, DateTime, MetaData, Row, func, text
from sqlalchemy.orm import DeclarativeBase, mapped_column

# Stable constraint names, so migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# 64-bit, time-sortable ids made by the database function next_id() (see the first migration):
# milliseconds since 2026-01-01 shifted left 16 bits, plus a sequence. Newer rows have larger ids.
IdPk = Annotated[int, mapped_column(BigInteger, primary_key=True, server_default=text("next_id()"))]
CreatedAt = Annotated[datetime, mapped_column(DateTime(timezone=True), server_default=func.now())]

# A result row of any shape, for queries whose columns the caller reads by name.
AnyRow: TypeAlias = Row[*tuple[Any, ...]]
