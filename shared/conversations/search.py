"""Portuguese full-text search over message bodies (card 112), one hit per conversation.

The vector is a generated column (`conversation_messages.search_vector`) under a GIN index, so the match is an
index scan. The 'portuguese' configuration stems ("dentes" finds "dente") but keeps accents: "orcamento" does
not find "orçamento" (that would need the unaccent extension in a custom configuration).
"""

from __future__ import annotations

import html
import json
from datetime import datetime

from sqlalchemy import ColumnElement, func, literal_column, select, text
from sqlalchemy.orm import Session

from shared.auth import Principal
from shared.config import get_settings
from shared.conversations.models import Conversation, ConversationMessage
from shared.conversations.notes_schemas import SearchHitOut, SearchPage, SearchQuery
from shared.conversations.service import visible_to

PORTUGUESE = literal_column("'portuguese'::regconfig")
# Matches are marked with <mark> and, since the rest of the snippet is the patient's raw text, everything else
# is HTML-escaped afterwards: a body with "<script>" must not reach a browser as markup.
HEADLINE_OPTIONS = "StartSel=<mark>, StopSel=</mark>, MaxFragments=2"
_MARKS = {html.escape("<mark>"): "<mark>", html.escape("</mark>"): "</mark>"}
SORT_MEMORY = "32MB"
MAX_ESTIMATED_LEXEMES = 8
MAX_WIDENING = 16.0

_M = ConversationMessage


def search_conversations(session: Session, actor: Principal, query: SearchQuery) -> SearchPage:
    """Conversations whose messages match `query.q`, most relevant first, each with its best message.

    Ranking a term means reading every message that has it. A rare term has few, but a very common one ("dor",
    "consulta": 10% of all messages) would cost a scan of most of the table on every search, so a term the
    planner estimates above SEARCH_RANK_ALL_LIMIT matches is ranked among its newest matches only: a window of
    time sized to hold about SEARCH_NEWEST_RANKED of them, widened until it fills the requested page. The answer
    then says since when it searched and that its total is an estimate. A secretary looking for a common word
    wants the recent conversations; an older one is found with a rarer word.
    """
    settings = get_settings()
    tsquery = func.websearch_to_tsquery(PORTUGUESE, query.q)
    # A common word matches ~100,000 messages; ranking them per conversation sorts ~10 MB, which spills to disk
    # under Postgres' default 4 MB (~20% of the query's time). This transaction only.
    session.execute(text(f"SET LOCAL work_mem = '{SORT_MEMORY}'"))
    estimate = _estimated_matches(session, query.q)
    share = settings.search_newest_ranked / estimate if estimate > settings.search_rank_all_limit else 1.0
    span = _message_span(session) if share < 1 else None  # read once: the window may widen several times
    needed = query.page * query.limit
    while True:
        since = _window_start(span, share)
        page, total = _ranked_page(session, actor, query, tsquery, since)
        if since is None or total >= needed:
            break
        share *= _widening(total, needed)
    if since is not None:  # the window holds `share` of the messages, so about that share of the conversations
        total = max(total, round(total / share))
    items = _hits(session, [(row.message_id, row.rank) for row in page], tsquery)
    pages = -(-total // query.limit)
    return SearchPage(items=items, total=total, page=query.page, limit=query.limit, pages=pages,
                      total_is_estimate=since is not None, searched_since=since)  # fmt: skip


def _estimated_matches(session: Session, q: str) -> int:
    """How many messages the query may match: the most any of its lexemes matches, by the planner's statistics.

    Per lexeme, not for the whole query: the planner multiplies frequencies as if they were independent, and
    words that go together ("parcelar cartão", or "raio-x", which the parser reads as 'raio-x', 'rai' and 'x')
    then look a thousand times rarer than they are. The most common lexeme is an upper bound for an AND, which
    is what the window needs: too small a window only costs a widening."""
    words = [word.strip('"') for word in q.split() if not word.startswith("-") and word.lower() != "or"]
    lexemes = session.scalars(
        text("SELECT unnest(tsvector_to_array(to_tsvector('portuguese', :words)))"), {"words": " ".join(words)}
    ).all()
    counts = [_planned_rows(session, lexeme) for lexeme in lexemes[:MAX_ESTIMATED_LEXEMES]]
    return max(counts, default=0)


def _planned_rows(session: Session, lexeme: str) -> int:
    quoted = "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"  # one lexeme, as tsquery input
    plan = session.execute(
        text("EXPLAIN (FORMAT JSON) SELECT 1 FROM conversation_messages "
             "WHERE search_vector @@ CAST(:lexeme AS tsquery)"),
        {"lexeme": quoted},
    ).scalar()  # fmt: skip
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _widening(found: int, needed: int) -> float:
    """How much larger the next window must be: matching conversations grow about as the window does, so aim
    for half as many again as the page needs, at least doubling and at most 16 times (nothing found yet)."""
    if found == 0:
        return MAX_WIDENING
    return min(MAX_WIDENING, max(2.0, 1.5 * needed / found))


def _message_span(session: Session) -> tuple[datetime, datetime] | None:
    """When the oldest and the newest messages were written (two index probes); None without messages."""
    oldest, newest = session.execute(select(func.min(_M.created_at), func.max(_M.created_at))).one()
    return None if oldest is None else (oldest, newest)


def _window_start(span: tuple[datetime, datetime] | None, share: float) -> datetime | None:
    """The time after which `share` of all messages were written, assuming an even pace; None for all of them."""
    if share >= 1 or span is None:
        return None
    oldest, newest = span
    return newest - (newest - oldest) * share


def _ranked_page(session: Session, actor: Principal, query: SearchQuery, tsquery, since: datetime | None):
    """The page's best message per conversation, and the number of conversations that match."""
    rank = func.ts_rank_cd(_M.search_vector, tsquery)
    ranked = select(
        _M.id.label("message_id"),
        _M.conversation_id,
        _M.created_at,
        rank.label("rank"),
        func.row_number()
        .over(partition_by=_M.conversation_id, order_by=(rank.desc(), _M.created_at.desc(), _M.id))
        .label("place"),
    ).where(_M.search_vector.bool_op("@@")(tsquery))
    if since is not None:
        ranked = ranked.where(_M.created_at >= since)
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
        return page, page[0].total
    if query.page == 1:
        return page, 0
    return page, session.scalar(select(func.count()).select_from(best.subquery())) or 0  # past the last page


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
