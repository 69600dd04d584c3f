"""Search of the claim queue: one document of search terms per claim, full-text indexed.

A claim's document is the set of terms (``bot.text.search_terms``) of its title,
then of its reports as they arrive, up to ``MAX_TERMS``: a claim that spreads
repeats the same words, so the cap bounds the work a report costs without
losing what the claim is about. A merge adds the merged claim's terms to its
target. A split leaves the old claim its terms (it may still be found by a word
of the reports split off); the new claim gets the terms of its reports.

Storage (migration 0015): SQLite, an FTS5 table ``claim_search(terms)`` whose
rowid is the claim id; PostgreSQL, a table ``claim_search(claim_id, terms)`` with
a generated ``tsvector`` of the terms under a GIN index. Terms are stored and
matched exactly as written (no stemming, no parser of either database decides
what a Chinese word is).

PostgreSQL also keeps each claim's status beside its document (``queue_status``,
NULL once merged; triggers of migration 0021 keep it), with the open claims'
documents under a GIN index of their own: a search narrows its matches by status
before the claims are read, and the default view reads open claims' matches only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Integer, bindparam, column, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import TextualSelect

from bot.storage.models import RumorClaim, RumorReport
from bot.text.search_terms import SearchQuery, compile_query, text_terms

MAX_TERMS = 3000  # terms of one claim (its title's always fit: titles have <= 500 chars)
REBUILD_TEXTS = 500  # reports read when a claim's document is written again from them


def _quote_fts5(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _quote_tsquery(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def match_expression(query: SearchQuery, dialect: str) -> str:
    """The query in FTS5's syntax (SQLite) or as a ``tsquery`` (PostgreSQL)."""
    if dialect == "sqlite":
        quote, both, either = _quote_fts5, " AND ", " OR "
    else:
        quote, both, either = _quote_tsquery, " & ", " | "
    groups = []
    for alternatives in query.groups:
        options = ["(" + both.join(quote(t) for t in alt) + ")" for alt in alternatives]
        groups.append("(" + either.join(options) + ")")
    return both.join(groups)


def match_query(typed: str, dialect: str) -> str | None:
    """What was typed as the database's own query (``match_expression``); ``None`` if
    it holds no word to search for (only punctuation, say)."""
    query = compile_query(typed)
    return match_expression(query, dialect) if query else None


def matching_claims(typed: str, dialect: str, statuses: Sequence[str] = ()) -> TextualSelect | None:
    """Ids of the claims whose documents match what was typed; ``None`` if it holds
    no word to search for (only punctuation, say).

    PostgreSQL: of the unmerged claims in ``statuses`` only (every status if empty).
    SQLite: of every claim (its caller filters the claims)."""
    search = match_query(typed, dialect)
    if search is None:
        return None
    if dialect == "sqlite":
        sql = "SELECT rowid AS claim_id FROM claim_search WHERE claim_search MATCH :search"
        return text(sql).bindparams(search=search).columns(column("claim_id", Integer))
    # OFFSET 0: the matches are found on their own, through a GIN index. Else
    # PostgreSQL may merge-join the claims with claim_search in id order and test
    # each claim's document (detoasted) against the query: 1 s for a common word
    # in the capped count at 100,000 claims (docs/benchmarks.md).
    where, params = queue_condition(search, statuses)
    return (
        text(f"SELECT claim_id FROM claim_search WHERE {where} OFFSET 0")
        .bindparams(*params)
        .columns(column("claim_id", Integer))
    )


def queue_condition(search: str, statuses: Sequence[str]) -> tuple[str, list[BindParameter[Any]]]:
    """PostgreSQL: the condition on ``claim_search`` for a query (``match_expression``)
    and the queue's statuses (every status if empty; merged claims never), and its
    parameters. Statuses that are all open let the planner take the open claims'
    index (migration 0021): a plan for these values (``console.QUEUE_SETTINGS``)
    sees that they imply its condition."""
    params: list[BindParameter[Any]] = [bindparam("search", search)]
    where = "document @@ CAST(:search AS tsquery)"
    if statuses:
        params.append(bindparam("statuses", list(statuses), expanding=True))
        return f"{where} AND queue_status IN :statuses", params
    return f"{where} AND queue_status IS NOT NULL", params


def _dialect(session: AsyncSession) -> str:
    name: str = session.bind.dialect.name
    return name


def _key(dialect: str) -> str:
    return "rowid" if dialect == "sqlite" else "claim_id"


async def terms_of(session: AsyncSession, claim_id: int) -> list[str] | None:
    """The claim's stored terms, in the order they were added (``None``: no document)."""
    dialect = _dialect(session)
    row = (
        await session.execute(
            text(f"SELECT terms FROM claim_search WHERE {_key(dialect)} = :id"),
            {"id": claim_id},
        )
    ).first()
    return None if row is None else row[0].split()


async def add_terms(session: AsyncSession, claim_id: int, terms: Iterable[str]) -> None:
    """Add ``terms`` to the claim's document (created if it has none), up to ``MAX_TERMS``."""
    current = await terms_of(session, claim_id)
    have = current or []
    room = MAX_TERMS - len(have)
    known = set(have)
    extra = sorted({t for t in terms if t not in known})[: max(0, room)]
    if current is not None and not extra:
        return
    await _write(session, claim_id, [*have, *extra], exists=current is not None)


async def _write(session: AsyncSession, claim_id: int, terms: list[str], exists: bool) -> None:
    dialect = _dialect(session)
    values = {"id": claim_id, "terms": " ".join(terms)}
    if dialect == "sqlite":
        sql = (
            "UPDATE claim_search SET terms = :terms WHERE rowid = :id"
            if exists
            else "INSERT INTO claim_search (rowid, terms) VALUES (:id, :terms)"
        )
    else:
        sql = (
            "INSERT INTO claim_search (claim_id, terms) VALUES (:id, :terms)"
            " ON CONFLICT (claim_id) DO UPDATE SET terms = excluded.terms"
        )
    await session.execute(text(sql), values)


async def forget(session: AsyncSession, claim_ids: Sequence[int]) -> None:
    """Drop the documents of deleted claims."""
    if not claim_ids:
        return
    key = _key(_dialect(session))
    for start in range(0, len(claim_ids), 500):
        chunk = list(claim_ids[start : start + 500])
        marks = ", ".join(f":c{i}" for i in range(len(chunk)))
        await session.execute(
            text(f"DELETE FROM claim_search WHERE {key} IN ({marks})"),
            {f"c{i}": claim_id for i, claim_id in enumerate(chunk)},
        )


def stored_document_terms(bind: Connection, claim_id: int, title: str) -> list[str]:
    """The terms ``rebuild`` would write for a claim, read through a plain connection
    (the migrations that write every document: its title and first reports)."""
    reports = bind.execute(
        text(
            "SELECT text FROM rumor_reports WHERE claim_id = :id ORDER BY created_at, id LIMIT :n"
        ),
        {"id": claim_id, "n": REBUILD_TEXTS},
    ).scalars()
    return document_terms([title, *reports])


def document_terms(texts: Iterable[str]) -> list[str]:
    """Terms of a title and reports, in that order, up to ``MAX_TERMS`` (CPU: run it
    in a thread)."""
    terms: dict[str, None] = {}
    for value in texts:
        for term in sorted(text_terms(value)):
            terms.setdefault(term)
        if len(terms) >= MAX_TERMS:
            break
    return list(terms)[:MAX_TERMS]


async def rebuild(session: AsyncSession, claim_ids: Sequence[int]) -> None:
    """Write the claims' documents again from their titles and (first) reports, e.g.
    once old reports were deleted."""
    for claim_id in claim_ids:
        title = (
            await session.execute(select(RumorClaim.title).where(RumorClaim.id == claim_id))
        ).scalar_one_or_none()
        if title is None:
            await forget(session, [claim_id])
            continue
        reports = (
            (
                await session.execute(
                    select(RumorReport.text)
                    .where(RumorReport.claim_id == claim_id)
                    .order_by(RumorReport.created_at, RumorReport.id)
                    .limit(REBUILD_TEXTS)
                )
            )
            .scalars()
            .all()
        )
        terms = await asyncio.to_thread(document_terms, [title, *reports])
        exists = await terms_of(session, claim_id) is not None
        await _write(session, claim_id, terms, exists=exists)
