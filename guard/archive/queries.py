"""Read-side queries behind the CLI: plain dicts in, plain dicts out, no formatting."""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterator
from typing import Any

import sqlite_utils

from guard.errors import NotInArchive, UsageError
from guard.states import CommentStatus, PostStatus
from guard.text import render_diff

__all__ = [
    "locate",
    "list_posts",
    "list_comments",
    "search",
    "fts_query",
    "query_terms",
    "text_condition",
    "is_fts_query_error",
    "thread",
    "history",
    "export_rows",
    "account_status",
    "COMMENT_STATUSES",
    "POST_STATUSES",
]

COMMENT_STATUSES = tuple(s.value for s in CommentStatus)
POST_STATUSES = tuple(s.value for s in PostStatus)

# A present comment was last seen at the post's last complete scan (we don't rewrite every
# comment row on every poll); a gone one at the time it was last listed.
_COMMENT_SELECT = """
SELECT c.id, c.account, c.post_id, c.parent_id, c.author_name AS author, c.author_id,
       c.message, c.status, c.created_time, c.first_seen,
       CASE WHEN c.status IN ('present', 'hidden') AND p.comments_complete_at > c.last_seen
            THEN p.comments_complete_at ELSE c.last_seen END AS last_seen,
       c.version, c.hidden, c.from_page, c.sha256
FROM comments c JOIN posts p ON p.id = c.post_id
"""


def locate(db: sqlite_utils.Database, object_id: str) -> tuple[str, str, str]:
    """(``"post"`` or ``"comment"``, account, post id) of an archived post or comment."""
    row = db.execute(
        "SELECT 'comment', account, post_id FROM comments WHERE id = ? UNION ALL "
        "SELECT 'post', account, id FROM posts WHERE id = ?",
        [object_id, object_id],
    ).fetchone()
    if row is None:
        raise NotInArchive(
            f"no post or comment with id {object_id!r} in the archive; poll first "
            "(`comment-guard poll --once`) or check the id with `comment-guard comments`"
        )
    return row[0], row[1], row[2]


def list_posts(
    db: sqlite_utils.Database,
    *,
    account: str | None = None,
    status: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    where, args = _where([("p.account = ?", account), ("p.status = ?", status)])
    # The page of posts first (newest through the posts_created index), then the counts of
    # those posts only: in one query, SQLite counted the comments of every post before sorting.
    sql = (
        "SELECT p.*,"
        " (SELECT count(*) FROM comments c WHERE c.post_id = p.id) AS comments,"
        # +c.status: the post's comments through comments_post; on the status index SQLite read
        # every deleted comment of the archive for each post
        " (SELECT count(*) FROM comments c WHERE c.post_id = p.id AND +c.status = 'deleted')"
        " AS deleted_comments FROM ("
        "SELECT p.id, p.account, p.status, p.version, p.created_time, p.first_seen, p.last_seen,"
        " p.permalink_url, p.message"
        f" FROM posts p {where} ORDER BY p.created_time DESC"
        + (f" LIMIT {int(limit)}" if limit else "")
        + ") p ORDER BY p.created_time DESC"
    )
    return list(db.query(sql, args))


def list_comments(
    db: sqlite_utils.Database,
    *,
    post: str | None = None,
    status: str | None = None,
    since: str | None = None,
    author: str | None = None,
    account: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    # By status, the page is read in time order and the listing stops at its limit: gone
    # comments through their partial index (the second term lets SQLite use it), present ones
    # (most of the archive) through comments_created ("+" keeps the (status) index out: on it
    # SQLite sorted every present comment before taking the first hundred). A post's comments
    # are read through the post's index, whatever their status.
    plain = status == "present" or post is not None
    by_status = "+c.status = ?" if plain else "c.status = ? AND c.status != 'present'"
    where, args = _where(
        [
            ("c.post_id = ?", post),
            (by_status, status),
            ("c.created_time >= ?", since),
            ("c.account = ?", account),
        ]
    )
    if author is not None:
        by_author, author_args = _author_condition(db, author)
        where = f"{where} AND {by_author}" if where else f"WHERE {by_author}"
        args += author_args
    tail = f" LIMIT {int(limit)}" if limit else ""
    rows = db.query(f"{_COMMENT_SELECT} {where} ORDER BY c.created_time, c.id{tail}", args)
    return [_bools(r) for r in rows]


def _author_condition(db: sqlite_utils.Database, author: str) -> tuple[str, list[str]]:
    """Comments by ``author``, whatever the case. SQLite's NOCASE (and its index) folds A-Z
    only, which is enough for an ASCII name; any other name is compared case-folded and
    composed (NFC: an accent typed on a Mac is often a separate character), among the comments
    whose author the full-text index finds (when the name has a word it can hold)."""
    if author.isascii():
        return "c.author_name = ? COLLATE NOCASE", [author]
    db.conn.create_function("name_key", 1, _name_key, deterministic=True)
    by_key, key = "name_key(c.author_name) = ?", unicodedata.normalize("NFC", author).casefold()
    if not _WORD_CHAR.search(author):
        return by_key, [key]
    narrowed = "c.rowid IN (SELECT rowid FROM comments_fts WHERE comments_fts MATCH ?)"
    return f"{narrowed} AND {by_key}", [f"author_name : {_quoted(author)}", key]


def _name_key(name: str | None) -> str | None:
    return None if name is None else unicodedata.normalize("NFC", name).casefold()


_WORD_CHAR = re.compile(r"[^\W_]")


def search(db: sqlite_utils.Database, query: str, *, limit: int = 50) -> list[dict[str, Any]]:
    """Full-text search over every version of every post and comment (deleted ones included),
    and comment authors. Each hit names the version that matched and whether that text is still
    the current one (``current``): `search Thursday` finds the post a correction changed.

    Plain words match as typed (punctuation is fine: "TONIGHT?!?"); a query using FTS5 syntax
    (``tonig*``, ``OR``, ``NEAR(a b)``, ``"a phrase"``, ``^first``) is passed through, and a
    malformed one is a ``UsageError`` naming the problem. Words the index cannot find (see
    ``query_terms``) are looked for as written, through every version.
    """
    match, literals = query_terms(query)
    try:
        if literals or match is None:
            rows = _search_literal(db, match, literals, limit)
        else:  # None, or at least ``limit`` hits
            rows = _search_recent(db, match, limit) or list(
                db.query(_SEARCH.format(**_ALL), {"q": match, "limit": limit})
            )
    except sqlite3.OperationalError as exc:
        if not is_fts_query_error(exc):
            raise
        raise UsageError(
            f"cannot search for {query!r}: {exc}; put words with special characters in double "
            "quotes, e.g. '\"TONIGHT?!?\"'"
        ) from None
    return [{**r, "current": bool(r["current"])} for r in rows]


# Every version of every post and comment whose text matches, and the current version of
# comments whose author matches. Formatted with "" for the whole archive, or (``_RECENT``) for
# the objects created at or after :t, each index read only over their range of ids.
_POST_HIT = """'post' AS type, p.id AS id, p.id AS post_id, p.account AS account, p.status AS status,
       p.created_time AS created_time, v.version AS version, v.version = p.version AS current,
       v.seen_at AS seen_at, v.message AS message, NULL AS author"""
_VERSION_HIT = """'comment', c.id, c.post_id, c.account, c.status, c.created_time, v.version,
       v.version = c.version, v.seen_at, v.message, c.author_name"""
_AUTHOR_HIT = """'comment', c.id, c.post_id, c.account, c.status, c.created_time, v.version, 1,
       v.seen_at, v.message, c.author_name"""
_HITS_ORDER = "ORDER BY created_time DESC, id, version DESC"
_SEARCH = f"""
SELECT {_POST_HIT}
  FROM post_versions_fts f JOIN post_versions v ON v.id = f.rowid JOIN posts p ON p.id = v.post_id
 WHERE post_versions_fts MATCH :q {{posts}}
UNION
SELECT {_VERSION_HIT}
  FROM comment_versions_fts f JOIN comment_versions v ON v.id = f.rowid
  JOIN comments c ON c.id = v.comment_id
 WHERE comment_versions_fts MATCH :q {{versions}}
UNION
SELECT {_AUTHOR_HIT}
  FROM comments c JOIN comment_versions v ON v.comment_id = c.id AND v.version = c.version
 WHERE c.rowid IN (SELECT rowid FROM comments_fts WHERE comments_fts MATCH :q {{authors}}) {{comments}}
{_HITS_ORDER} LIMIT :limit
"""
_ALL = {"posts": "", "versions": "", "authors": "", "comments": ""}
_RECENT = {
    "posts": "AND f.rowid BETWEEN :plo AND :phi AND p.created_time >= :t",
    "versions": "AND f.rowid BETWEEN :vlo AND :vhi AND c.created_time >= :t",
    "authors": "AND rowid BETWEEN :clo AND :chi",
    "comments": "AND c.created_time >= :t",
}
# The newest comments' creation time, and the ids they (and posts as new) span in each index.
_RECENT_BOUNDS = """
SELECT min(c.rowid), max(c.rowid), min(v.id), max(v.id)
  FROM comments c INDEXED BY comments_created JOIN comment_versions v ON v.comment_id = c.id
 WHERE c.created_time >= :t
"""
_RECENT_POST_BOUNDS = """
SELECT min(v.id), max(v.id)
  FROM posts p INDEXED BY posts_created JOIN post_versions v ON v.post_id = p.id
 WHERE p.created_time >= :t
"""
_WINDOW = 2_000  # newest comments a search looks through first


def _search_recent(db: sqlite_utils.Database, match: str, limit: int) -> list[dict[str, Any]] | None:
    """The hits among the newest comments (and posts as new), or None when there are fewer
    than ``limit`` of them.

    Hits are shown newest first (``created_time``), so when the newest ``_WINDOW`` comments
    (all those created at or after the window's oldest, ties included) hold ``limit`` hits,
    those are the answer: nothing outside was created as late. Each full-text index is read
    over the ids the window spans only, so a common word costs the window, not every comment
    that uses it (the whole index sorted every match first). A rarer word falls through to the
    whole index, where its matches are few."""
    window = max(_WINDOW, 20 * limit)
    row = db.execute(
        "SELECT created_time FROM comments WHERE created_time IS NOT NULL"
        " ORDER BY created_time DESC LIMIT 1 OFFSET ?",
        [window - 1],
    ).fetchone()
    if row is None:  # a small archive: the whole index is as cheap
        return None
    clo, chi, vlo, vhi = db.execute(_RECENT_BOUNDS, {"t": row[0]}).fetchone()
    plo, phi = db.execute(_RECENT_POST_BOUNDS, {"t": row[0]}).fetchone()
    bounds = {"t": row[0], "clo": clo, "chi": chi, "vlo": vlo, "vhi": vhi, "plo": plo, "phi": phi}
    rows = list(db.query(_SEARCH.format(**_RECENT), {"q": match, "limit": limit, **bounds}))
    return rows if len(rows) >= limit else None


def _search_literal(
    db: sqlite_utils.Database, match: str | None, literals: list[str], limit: int
) -> list[dict[str, Any]]:
    """The hits when some words are looked for as written: every version's text is read (the
    index narrows it first when the query also has words it holds)."""
    posts, post_args = text_condition("v.message", "post_versions_fts", "v.id", match, literals)
    versions, version_args = text_condition("v.message", "comment_versions_fts", "v.id", match, literals)
    authors, author_args = text_condition("c.author_name", "comments_fts", "c.rowid", match, literals)
    sql = (
        f"SELECT {_POST_HIT} FROM post_versions v JOIN posts p ON p.id = v.post_id WHERE {posts}"
        f" UNION SELECT {_VERSION_HIT} FROM comment_versions v JOIN comments c ON c.id = v.comment_id"
        f" WHERE {versions} UNION SELECT {_AUTHOR_HIT} FROM comments c JOIN comment_versions v"
        f" ON v.comment_id = c.id AND v.version = c.version WHERE {authors} {_HITS_ORDER} LIMIT ?"
    )
    return list(db.query(sql, [*post_args, *version_args, *author_args, limit]))


def text_condition(
    column: str, fts_table: str, rowid: str, match: str | None, literals: list[str]
) -> tuple[str, list[str]]:
    """A condition (and its arguments) for rows whose ``column`` matches a query: the words the
    index holds through ``fts_table`` (``rowid`` names the row in it), the others as written."""
    conds = [f"{rowid} IN (SELECT rowid FROM {fts_table} WHERE {fts_table} MATCH ?)"] if match else []
    conds += [f"instr({column}, ?) > 0"] * len(literals)
    return " AND ".join(conds), ([match] if match else []) + literals


# Characters and words that make a query FTS5 syntax rather than plain words. A colon only
# after the one column name the indexes share, a plus only on its own: in what people write
# they are times ("7:30pm"), headings ("UPDATE:", "Re:") and "+1", and FTS5 refused them.
_FTS_SYNTAX = re.compile(r'["*()^]|\b(?i:message)\s*:|(?:^|\s)\+(?:\s|$)|\b(AND|OR|NOT|NEAR)\b')


# How FTS5 words a MATCH expression it cannot parse; any other error (locked, I/O) is not the query's.
_FTS_QUERY_ERRORS = (
    "fts5",
    "syntax",
    "no such column",
    "unterminated",
    "unknown special query",  # `*`, `*night`
    "expected integer",  # NEAR(a b, x)
)


def is_fts_query_error(exc: sqlite3.OperationalError) -> bool:
    """Whether ``exc`` is FTS5 refusing the query as written (``*``, ``"unclosed``, ``NEAR(a b, x)``),
    for ``search`` and ``export --query`` to answer as a usage error."""
    return any(w in str(exc) for w in _FTS_QUERY_ERRORS)


# Words the index cannot find, so looked for as written (case-sensitive). Chinese, Japanese,
# Thai, Lao, Khmer and Burmese are written without spaces, and the unicode61 tokenizer holds a
# whole run of such characters as one word: a word inside a sentence is in no token. Emoji and
# punctuation are not indexed at all: alone, they matched nothing; beside words, they were ignored.
_LITERAL = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003ffff]|^[\\W_]+$"
)


def query_terms(query: str) -> tuple[str | None, list[str]]:
    """What ``query`` looks for: the MATCH expression of the words the index holds (plain
    words quoted one by one, all must match; FTS5 syntax as written, or the same words as a
    phrase; None when every word is one the index cannot find) and the words looked for as
    written (``_LITERAL``).

    The phrase keeps a comment findable by its own words when they read as operators: a
    comment shouting "WHY IS THE POOL NOT OPEN" is, as FTS5 syntax, "why is the pool" without
    "open", which excludes the very comment typed in."""
    text = query.strip()
    if not text:
        raise UsageError("search needs something to look for, e.g. `comment-guard search Thursday`")
    if _FTS_SYNTAX.search(text):
        return f"({text}) OR {_quoted(text)}", []
    words = text.split()
    literals = [word for word in words if _LITERAL.search(word)]
    return " ".join(_quoted(word) for word in words if word not in literals) or None, literals


def fts_query(query: str) -> str | None:
    """The MATCH expression of ``query_terms``."""
    return query_terms(query)[0]


def _quoted(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def thread(db: sqlite_utils.Database, post_id: str) -> dict[str, Any]:
    post = _one(db, "SELECT * FROM posts WHERE id = ?", post_id, "post")
    post["versions"] = _versions(db, "post_versions", "post_id", post_id)
    comments = list_comments(db, post=post_id)
    versions: dict[str, list[dict[str, Any]]] = {}
    for v in db.query(
        "SELECT * FROM comment_versions WHERE comment_id IN"
        " (SELECT id FROM comments WHERE post_id = ?) ORDER BY comment_id, version",
        [post_id],
    ):
        versions.setdefault(v["comment_id"], []).append(_version_out(v))
    by_id = {c["id"]: {**c, "versions": versions.get(c["id"], []), "replies": []} for c in comments}
    roots: list[dict[str, Any]] = []
    for c in by_id.values():
        parent = by_id.get(c["parent_id"] or "")
        (parent["replies"] if parent else roots).append(c)
    post["comments"] = roots
    return post


def walk_thread(comments: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], int]]:
    """Every comment of a ``thread`` tree with its depth (0: top level), each before its
    replies. A loop, not recursion: an X reply chain can be deeper than Python's recursion limit."""
    stack = [(c, 0) for c in reversed(comments)]
    while stack:
        c, depth = stack.pop()
        yield c, depth
        stack.extend((r, depth + 1) for r in reversed(c["replies"]))


def history(db: sqlite_utils.Database, object_id: str) -> dict[str, Any]:
    """Every version of a post or comment, with diffs, and every event about it."""
    row = db.execute(
        "SELECT 'comment' FROM comments WHERE id = ? UNION ALL SELECT 'post' FROM posts WHERE id = ?",
        [object_id, object_id],
    ).fetchone()
    if row is None:
        raise NotInArchive(
            f"no post or comment with id {object_id!r} in the archive; "
            "`comment-guard comments --json` lists comment ids"
        )
    kind = row[0]
    if kind == "comment":
        current = list_comments_by_id(db, object_id)
        versions = _versions(db, "comment_versions", "comment_id", object_id)
    else:
        current = _one(db, "SELECT * FROM posts WHERE id = ?", object_id, "post")
        versions = _versions(db, "post_versions", "post_id", object_id)
    events = [
        {**e, "data": json.loads(e["data"])}
        for e in db.query(
            "SELECT seq, at, kind, data FROM events WHERE object_id = ? ORDER BY seq", [object_id]
        )
    ]
    return {"type": kind, "id": object_id, "current": current, "versions": versions, "events": events}


def list_comments_by_id(db: sqlite_utils.Database, comment_id: str) -> dict[str, Any]:
    rows = [_bools(r) for r in db.query(f"{_COMMENT_SELECT} WHERE c.id = ?", [comment_id])]
    if not rows:
        raise NotInArchive(f"no comment with id {comment_id!r} in the archive")
    return rows[0]


def export_rows(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every version of every post and comment, one row each, with the SHA-256 of its text."""
    rows = list(
        db.query(
            "SELECT 'post' AS type, v.post_id AS id, v.post_id AS post_id, NULL AS parent_id,"
            " p.author_name AS author, v.version, v.seen_at, p.status, v.message, v.sha256"
            " FROM post_versions v JOIN posts p ON p.id = v.post_id"
            " UNION ALL "
            "SELECT 'comment', v.comment_id, c.post_id, c.parent_id, c.author_name, v.version,"
            " v.seen_at, c.status, v.message, v.sha256"
            " FROM comment_versions v JOIN comments c ON c.id = v.comment_id"
            " ORDER BY 3, 1 DESC, 2, 6"
        )
    )
    return rows


def account_status(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Per account: the last poll and its outcome, and archive counts."""
    out = []
    # Accounts bound to a page, and accounts whose polls have all failed (not bound yet).
    for acc in db.query(
        "SELECT name, platform FROM accounts UNION SELECT DISTINCT account, NULL FROM polls"
        " WHERE account NOT IN (SELECT name FROM accounts) ORDER BY name"
    ):
        last = db.execute(
            "SELECT id, started, finished, complete, error, api_calls, items FROM polls"
            " WHERE account = ? ORDER BY id DESC LIMIT 1",
            [acc["name"]],
        ).fetchone()
        counts = _comment_counts(db, acc["name"])
        out.append(
            {
                "account": acc["name"],
                "platform": acc["platform"],
                "last_poll": last[2] if last else None,
                "last_poll_ok": bool(last and last[4] is None) if last else None,
                "last_poll_complete": bool(last[3]) if last else None,
                "last_error": last[4] if last else None,
                "last_poll_outcome": _outcome(last[3], last[4], last[6]) if last else None,
                "posts": db.execute("SELECT count(*) FROM posts WHERE account = ?", [acc["name"]]).fetchone()[
                    0
                ],
                "comments": sum(counts.values()),
                **{f"comments_{s}": counts.get(s, 0) for s in COMMENT_STATUSES},
            }
        )
    return out


def _comment_counts(db: sqlite_utils.Database, account: str) -> dict[str, int]:
    """The account's comments per status, from the counts every poll keeps (schema step 14): a
    few rows, whatever the archive's size (counting the status index read every comment)."""
    return dict(db.execute("SELECT status, n FROM comment_counts WHERE account = ? AND n > 0", [account]))


def _outcome(complete: int, error: str | None, items: int) -> str:
    """ok: every page read; failed: an error before anything was read; else incomplete."""
    if error is None:
        return "ok" if complete else "incomplete"
    return "failed" if items == 0 else "incomplete"


def _versions(db: sqlite_utils.Database, table: str, key: str, oid: str) -> list[dict[str, Any]]:
    return [
        _version_out(v) for v in db.query(f"SELECT * FROM {table} WHERE {key} = ? ORDER BY version", [oid])
    ]


def _version_out(v: dict[str, Any]) -> dict[str, Any]:
    diff = json.loads(v["diff"]) if v.get("diff") else None
    return {
        "version": v["version"],
        "seen_at": v["seen_at"],
        "message": v["message"],
        "sha256": v["sha256"],
        "diff": diff,
        "diff_text": render_diff(diff) if diff else None,
    }


def _one(db: sqlite_utils.Database, sql: str, oid: str, what: str) -> dict[str, Any]:
    rows = list(db.query(sql, [oid]))
    if not rows:
        raise NotInArchive(f"no {what} with id {oid!r} in the archive; `comment-guard posts` lists them")
    return rows[0]


def _bools(row: dict[str, Any]) -> dict[str, Any]:
    row["hidden"] = None if row.get("hidden") is None else bool(row["hidden"])
    row["from_page"] = bool(row.get("from_page"))
    return row


def _where(conds: list[tuple[str, Any]]) -> tuple[str, list[Any]]:
    used = [(sql, v) for sql, v in conds if v is not None]
    if not used:
        return "", []
    return "WHERE " + " AND ".join(s for s, _ in used), [v for _, v in used]
