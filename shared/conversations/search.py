"""Portuguese full-text search over message bodies (card 112), one hit per conversation.

The vector is a generated column (`conversation_messages.search_vector`) under a GIN index, so the match is an
index scan. The 'portuguese' configuration stems ("dentes" finds "dente") but keeps accents: "orcamento" does
not find "orçamento" (that would need the unaccent extension in a custom configuration).
"""

from __future__ import annotations

import html

from sqlalchemy import ColumnElement, func, literal_column, select, text
from sqlalchemy.orm import Session

from shared.auth import Principal
from shared.conversations.models import Conversation, ConversationMessage
from shared.conversations.notes_schemas import SearchHitOut, SearchQuery
from shared.conversations.service import visible_to
from shared.pagination import Page

PORTUGUESE = literal_column("'portuguese'::regconfig")
# Matches are marked with <mark> and, since the rest of the snippet is the patient's raw text, everything else
# is HTML-escaped afterwards: a body with "<script>" must not reach a browser as markup.
HEADLINE_OPTIONS = "StartSel=<mark>, StopSel=</mark>, MaxFragments=2"
_MARKS = {html.escape("<mark>"): "<mark>", html.escape("</mark>"): "</mark>"}
SORT_MEMORY = "32MB"

_M = ConversationMessage


def search_conversations(session: Session, actor: Principal, query: SearchQuery) -> Page[SearchHitOut]:
    """Conversations whose messages match `query.q`, most relevant first, each with its best message."""
    tsquery = func.websearch_to_tsquery(PORTUGUESE, query.q)
    rank = func.ts_rank_cd(_M.search_vector, tsquery)
    # A common word matches ~100,000 messages; ranking them per conversation sorts ~10 MB, which spills to disk
    # under Postgres' default 4 MB (~20% of the query's time). This transaction only.
    session.execute(text(f"SET LOCAL work_mem = '{SORT_MEMORY}'"))
    ranked = select(
        _M.id.label("message_id"),
        _M.conversation_id,
        _M.created_at,
        rank.label("rank"),
        func.row_number()
        .over(partition_by=_M.conversation_id, order_by=(rank.desc(), _M.created_at.desc(), _M.id))
        .label("place"),
    ).where(_M.search_vector.bool_op("@@")(tsquery))
    visible = visible_to(actor)
    if visible:  # an ADMIN's search needs no join: every message has its conversation
        ranked = ranked.join(Conversation, Conversation.id == _M.conversation_id).where(*visible)
    ranked = ranked.subquery("ranked")
    best = select(ranked.c.message_id, ranked.c.rank).where(ranked.c.place == 1)
    # The total rides along with the page (a window over the best rows, before LIMIT): matching and ranking
    # every message is the whole cost of a common word, and a separate count would pay it twice.
    page = session.execute(
        best.add_columns(func.count().over().label("total"))
        .order_by(ranked.c.rank.desc(), ranked.c.created_at.desc(), ranked.c.conversation_id)
        .offset((query.page - 1) * query.limit)
        .limit(query.limit)
    ).all()
    if page:
        total = page[0].total
    elif query.page == 1:
        total = 0
    else:  # past the last page: count on its own
        total = session.scalar(select(func.count()).select_from(best.subquery())) or 0
    items = _hits(session, [(row.message_id, row.rank) for row in page], tsquery)
    pages = -(-total // query.limit)
    return Page[SearchHitOut](items=items, total=total, page=query.page, limit=query.limit, pages=pages)


def _hits(session: Session, page: list[tuple], tsquery: ColumnElement) -> list[SearchHitOut]:
    """The page's messages with their snippets: ts_headline is costly, so it runs on this page only."""
    if not page:
        return []
    headline = func.ts_headline(PORTUGUESE, func.coalesce(_M.body, ""), tsquery, HEADLINE_OPTIONS)
    rows = session.execute(
        select(_M, Conversation.name, Conversation.phone_number, headline.label("snippet"))
        .join(Conversation, Conversation.id == _M.conversation_id)
        .where(_M.id.in_([message_id for message_id, _ in page]))
    ).all()
    found = {row[0].id: row for row in rows}
    return [_hit(found[message_id], rank) for message_id, rank in page]


def _hit(row, rank: float) -> SearchHitOut:
    message, name, phone_number, snippet = row
    return SearchHitOut(
        conversation_id=message.conversation_id,
        name=name,
        phone_number=phone_number,
        message_id=message.id,
        direction=message.direction,
        sender_kind=message.sender_kind,
        message_created_at=message.created_at,
        rank=rank,
        snippet=_safe_snippet(snippet),
    )


def _safe_snippet(snippet: str) -> str:
    escaped = html.escape(snippet, quote=False)
    for mark, tag in _MARKS.items():
        escaped = escaped.replace(mark, tag)
    return escaped
