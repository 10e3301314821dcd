"""Page/limit pagination for every listing (card 111): `{items, total, page, limit, pages}`."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

T = TypeVar("T")


class PageQuery(BaseModel):
    page: int = Field(default=1, ge=1, le=100_000, description="1-based page number (at most 100,000)")
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="items per page (max 100)")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    limit: int
    pages: int


def paginate(session: Session, statement: Select[Any], query: PageQuery, to_item: Callable[[Any], T]) -> Page[T]:
    """Run `statement` for one page and count all its rows; the statement must carry its own ORDER BY."""
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    rows = session.scalars(statement.offset((query.page - 1) * query.limit).limit(query.limit))
    return Page[T](
        items=[to_item(row) for row in rows],
        total=total,
        page=query.page,
        limit=query.limit,
        pages=math.ceil(total / query.limit) if total else 0,
    )
