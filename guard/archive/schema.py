"""The archive's schema, as an ordered list of migrations.

The database records its schema version in ``meta``; ``migrate`` applies every missing step in
one transaction, so an old archive is upgraded in place and never half-upgraded. Add a step by
appending a function to ``MIGRATIONS``; never edit a step that has shipped.
"""

from __future__ import annotations

import secrets
from typing import Callable

import sqlite_utils

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate", "refuse_newer", "schema_version"]


def _v1_archive(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE accounts (
            name TEXT PRIMARY KEY,
            platform TEXT NOT NULL,
            page_id TEXT NOT NULL,
            first_seen TEXT NOT NULL
        );
        CREATE TABLE posts (
            id TEXT PRIMARY KEY,
            account TEXT NOT NULL REFERENCES accounts(name),
            message TEXT NOT NULL,
            created_time TEXT,
            updated_time TEXT,
            permalink_url TEXT,
            author_id TEXT,
            author_name TEXT,
            status TEXT NOT NULL DEFAULT 'present',   -- present | deleted | unknown
            version INTEGER NOT NULL DEFAULT 1,
            sha256 TEXT NOT NULL,
            previous_ids TEXT NOT NULL DEFAULT '[]',   -- JSON list (X edit chain)
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            missing_count INTEGER NOT NULL DEFAULT 0,
            status_changed_at TEXT,
            comments_complete_at TEXT,             -- last scan that read every comment page
            comments_verified_at TEXT              -- last one-by-one check of unlisted comments
        );
        CREATE INDEX posts_account ON posts(account, created_time);
        CREATE TABLE post_versions (
            id INTEGER PRIMARY KEY,
            post_id TEXT NOT NULL REFERENCES posts(id),
            version INTEGER NOT NULL,
            message TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            seen_at TEXT NOT NULL,
            updated_time TEXT,
            diff TEXT,                                 -- JSON: word-level diff from previous version
            UNIQUE (post_id, version)
        );
        CREATE TABLE comments (
            id TEXT PRIMARY KEY,
            account TEXT NOT NULL REFERENCES accounts(name),
            post_id TEXT NOT NULL REFERENCES posts(id),
            parent_id TEXT,
            author_id TEXT,
            author_name TEXT,
            message TEXT NOT NULL,
            created_time TEXT,
            hidden INTEGER,                            -- 1/0, NULL when the platform does not say
            from_page INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'present',    -- present | hidden | deleted | unknown
            version INTEGER NOT NULL DEFAULT 1,
            sha256 TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            missing_count INTEGER NOT NULL DEFAULT 0,  -- consecutive complete scans without it
            status_changed_at TEXT,
            confirmed_at TEXT            -- last by-id check that found it still there (unlisted)
        );
        CREATE INDEX comments_post ON comments(post_id);
        CREATE INDEX comments_status ON comments(status);
        CREATE TABLE comment_versions (
            id INTEGER PRIMARY KEY,
            comment_id TEXT NOT NULL REFERENCES comments(id),
            version INTEGER NOT NULL,
            message TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            seen_at TEXT NOT NULL,
            diff TEXT,
            UNIQUE (comment_id, version)
        );
        CREATE TABLE polls (
            id INTEGER PRIMARY KEY,
            account TEXT NOT NULL,
            started TEXT NOT NULL,
            finished TEXT,
            api_calls INTEGER NOT NULL DEFAULT 0,
            items INTEGER NOT NULL DEFAULT 0,
            complete INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            counts TEXT                                -- JSON: events per kind
        );
        CREATE INDEX polls_account ON polls(account, id);
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            account TEXT NOT NULL,
            kind TEXT NOT NULL,
            object_id TEXT,
            post_id TEXT,
            poll_id INTEGER,
            data TEXT NOT NULL,                        -- JSON
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE INDEX events_object ON events(object_id);
        CREATE INDEX events_kind ON events(kind, seq);
        CREATE INDEX events_poll ON events(poll_id);
        CREATE INDEX events_post ON events(post_id, kind);
        CREATE TRIGGER events_no_update BEFORE UPDATE ON events
            BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
        CREATE TRIGGER events_no_delete BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
        CREATE TABLE findings (
            id INTEGER PRIMARY KEY,
            account TEXT NOT NULL,
            kind TEXT NOT NULL,        -- removed-critical | hidden-critical | unanswered | ...
            severity TEXT NOT NULL,    -- info | warning | critical
            state TEXT NOT NULL DEFAULT 'open',   -- open | acknowledged | resolved
            dedupe_key TEXT NOT NULL UNIQUE,
            post_id TEXT,
            comment_id TEXT,
            opened_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            escalated_at TEXT,
            resolved_at TEXT,
            evidence TEXT NOT NULL,    -- JSON
            suggested_reply TEXT,
            note TEXT
        );
        CREATE INDEX findings_state ON findings(state, kind);
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            finding_id INTEGER REFERENCES findings(id),
            stage TEXT NOT NULL,       -- first | reminder | escalation | digest | test
            channel TEXT NOT NULL,     -- slack | email | escalation channel names
            dedupe_key TEXT NOT NULL UNIQUE,
            subject TEXT NOT NULL,
            payload TEXT NOT NULL,     -- JSON: the rendered message for that channel
            status TEXT NOT NULL DEFAULT 'pending',   -- pending | sent | failed
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT
        );
        CREATE INDEX outbox_pending ON outbox(status, next_attempt_at);
        """
    )
    db.table("comments").enable_fts(["message", "author_name"], create_triggers=True, tokenize="unicode61")
    db.table("posts").enable_fts(["message"], create_triggers=True, tokenize="unicode61")
    # Re-index only when the indexed text changes, not on every status or last_seen update.
    for table, cols in (("comments", ("message", "author_name")), ("posts", ("message",))):
        old = ", ".join(f'old."{c}"' for c in cols)
        new = ", ".join(f'new."{c}"' for c in cols)
        names = ", ".join(f'"{c}"' for c in cols)
        db.executescript(f"""
            DROP TRIGGER "{table}_au";
            CREATE TRIGGER "{table}_au" AFTER UPDATE OF {names} ON "{table}" BEGIN
              INSERT INTO "{table}_fts" ("{table}_fts", rowid, {names}) VALUES('delete', old.rowid, {old});
              INSERT INTO "{table}_fts" (rowid, {names}) VALUES (new.rowid, {new});
            END;""")


def _v2_staff_labels(db: sqlite_utils.Database) -> None:
    """Staff labels (`comment-guard label`): a human decision per comment that overrides the
    classifier; each row is also a `comment_labelled` event in the hash chain. Plus an index on
    comment hashes, to count copies of one text on other posts (spam evidence)."""
    db.executescript(
        """
        CREATE TABLE labels (
            id INTEGER PRIMARY KEY,
            comment_id TEXT NOT NULL REFERENCES comments(id),
            label TEXT NOT NULL,           -- critical | not-critical
            labelled_by TEXT NOT NULL,
            at TEXT NOT NULL,
            note TEXT,
            sha256 TEXT NOT NULL,          -- of the comment text that was labelled
            event_seq INTEGER NOT NULL     -- the comment_labelled event that recorded it
        );
        CREATE INDEX labels_comment ON labels(comment_id, id);
        CREATE INDEX comments_sha256 ON comments(sha256, post_id);
        """
    )


def _v3_install_id(db: sqlite_utils.Database) -> None:
    """A random id for this archive (one install): email Message-IDs carry it, so two pages'
    "finding #1" never share a Message-ID and collapse into one thread."""
    db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('install_id', ?)", [secrets.token_hex(16)])


def _v4_version_search(db: sqlite_utils.Database) -> None:
    """Full-text indexes over every version of posts and comments, not only the current text:
    `search Thursday` finds the word a correction removed. Versions are insert-only."""
    for table in ("post_versions", "comment_versions"):
        # one statement per execute: executescript would commit the migration's transaction
        for sql in (
            f'CREATE VIRTUAL TABLE "{table}_fts" USING fts5('
            f'message, content="{table}", content_rowid="id", tokenize="unicode61")',
            f'CREATE TRIGGER "{table}_ai" AFTER INSERT ON "{table}" BEGIN'
            f' INSERT INTO "{table}_fts" (rowid, message) VALUES (new.id, new.message); END',
            f'CREATE TRIGGER "{table}_ad" AFTER DELETE ON "{table}" BEGIN INSERT INTO "{table}_fts"'
            f" (\"{table}_fts\", rowid, message) VALUES ('delete', old.id, old.message); END",
            f'INSERT INTO "{table}_fts" ("{table}_fts") VALUES (\'rebuild\')',
        ):
            db.execute(sql)


def _v5_interactions(db: sqlite_utils.Database) -> None:
    """Actions staff take from a chat app (Slack buttons), one row per action: the key makes
    a redelivered payload the same action, so a reply is posted once however often Slack
    retries. Who did what is also an event in the hash chain."""
    db.execute(
        """CREATE TABLE interactions (
            key TEXT PRIMARY KEY,       -- slack:view:<id> (a modal), slack:click:<action_ts>:<user>
            action TEXT NOT NULL,       -- reply | acknowledge | not-critical
            user_id TEXT,
            user_name TEXT,
            finding_id INTEGER,
            at TEXT NOT NULL,
            outcome TEXT                -- NULL while it runs, then done | refused | failed: ...
        )"""
    )


def _v6_verdicts(db: sqlite_utils.Database) -> None:
    """Classifier verdicts per comment, stored so an unchanged comment is never classified
    twice (``guard.archive.verdicts``). Derived data: not hashed, not exported, safe to empty."""
    db.execute(
        """CREATE TABLE verdicts (
            comment_id TEXT PRIMARY KEY,
            post_id TEXT NOT NULL,
            inputs TEXT NOT NULL,       -- digest of everything the classifier read
            critical INTEGER NOT NULL,
            reasons TEXT NOT NULL,      -- JSON list
            excluded TEXT
        )"""
    )
    db.execute("CREATE INDEX verdicts_post ON verdicts(post_id)")


def _v7_platform_status(db: sqlite_utils.Database) -> None:
    """The platform's own moderation status of a comment (WordPress: approved, hold, spam,
    trash), so a hidden comment moving between hidden states (hold → spam → trash) is an event.
    NULL where the platform has no such status, and for rows read before this step."""
    db.execute("ALTER TABLE comments ADD COLUMN platform_status TEXT")


def _v8_bulk_comment_fts(db: sqlite_utils.Database) -> None:
    """New comments and comment versions are indexed for search in bulk, once per poll
    (``guard.archive.polls.write_poll``: one INSERT ... SELECT of the rows the poll added),
    instead of by a trigger per row, which made the comments insert several times slower.
    Edits and deletions keep their triggers; search stays exact after every poll."""
    db.execute('DROP TRIGGER IF EXISTS "comments_ai"')
    db.execute('DROP TRIGGER IF EXISTS "comment_versions_ai"')


def _v9_listing_indexes(db: sqlite_utils.Database) -> None:
    """Indexes so listings and `status` cost what they return, not the archive's size:
    `comments --since` and the default order (created_time), `--author` (case-insensitive, as
    it matches), and the per-account status counts of `status` (read from the index alone)."""
    db.execute("CREATE INDEX comments_created ON comments(created_time, id)")
    db.execute("CREATE INDEX comments_author ON comments(author_name COLLATE NOCASE)")
    db.execute("CREATE INDEX comments_account_status ON comments(account, status)")


def _v10_status_counts_index(db: sqlite_utils.Database) -> None:
    """Step 9's (account, status) index led with the account, so SQLite took it for any
    ``account = ?`` lookup, among them the per-comment count of copies on other posts (which
    then read every comment of the account, for each comment). Led by the status instead, it
    still answers `status`'s counts from the index alone and no account lookup picks it."""
    db.execute("DROP INDEX IF EXISTS comments_account_status")
    db.execute("CREATE INDEX comments_status_account ON comments(status, account)")


def _v11_comment_counts(db: sqlite_utils.Database) -> None:
    """Comments per account and status, kept by triggers, so `status` reads a few rows instead
    of counting the status index (every comment of the archive: it grew with the archive); and
    posts by creation time, so `posts` reads its newest page instead of sorting every post.
    Derived data: not hashed, not exported; ``verify`` does not read it."""
    for sql in (
        "CREATE TABLE comment_counts (account TEXT NOT NULL, status TEXT NOT NULL,"
        " n INTEGER NOT NULL, PRIMARY KEY (account, status)) WITHOUT ROWID",
        "INSERT INTO comment_counts (account, status, n)"
        " SELECT account, status, count(*) FROM comments GROUP BY account, status",
        "CREATE TRIGGER comment_counts_ai AFTER INSERT ON comments BEGIN"
        " INSERT INTO comment_counts (account, status, n) VALUES (new.account, new.status, 1)"
        " ON CONFLICT (account, status) DO UPDATE SET n = n + 1; END",
        "CREATE TRIGGER comment_counts_au AFTER UPDATE OF account, status ON comments"
        " WHEN old.status IS NOT new.status OR old.account IS NOT new.account BEGIN"
        " UPDATE comment_counts SET n = n - 1 WHERE account = old.account AND status = old.status;"
        " INSERT INTO comment_counts (account, status, n) VALUES (new.account, new.status, 1)"
        " ON CONFLICT (account, status) DO UPDATE SET n = n + 1; END",
        "CREATE TRIGGER comment_counts_ad AFTER DELETE ON comments BEGIN"
        " UPDATE comment_counts SET n = n - 1 WHERE account = old.account AND status = old.status; END",
        "CREATE INDEX posts_created ON posts(created_time)",
    ):
        db.execute(sql)


def _v12_drop_comment_counts(db: sqlite_utils.Database) -> None:
    """Step 11's per-row count triggers made every comment insert open a statement journal:
    a raw insert of 50,000 comments took 1.5-1.9x the CPU (3.5 s -> 5.4-6.8 s), a cost every
    first poll pays to save `status` a scan of the status index. Dropped; posts_created stays."""
    for sql in (
        "DROP TRIGGER IF EXISTS comment_counts_ai",
        "DROP TRIGGER IF EXISTS comment_counts_au",
        "DROP TRIGGER IF EXISTS comment_counts_ad",
        "DROP TABLE IF EXISTS comment_counts",
    ):
        db.execute(sql)


def _v13_bulk_edit_fts(db: sqlite_utils.Database) -> None:
    """Edited comments are re-indexed for search in bulk as well (``write_poll``: one FTS5
    'delete' of a page's edited rows before their text changes, one insert of every edited row
    per poll), instead of by the update trigger. The trigger ran FTS5 once per edited row, and
    each run (its own statement) flushed the index's pending changes to disk as a new segment:
    0.3 ms per edit and three times the pages written. Search stays exact after every poll."""
    db.execute('DROP TRIGGER IF EXISTS "comments_au"')


def _v14_comment_counts(db: sqlite_utils.Database) -> None:
    """Comments per account and status, for `status`: a few rows instead of a count of the
    status index, which grew with the archive. Kept by ``write_poll``, which applies the poll's
    deltas (the rows it inserted, the status changes it wrote) in its own transaction, with no
    per-row trigger (step 12 says why). Filled here from the archive. Derived data: not hashed,
    not exported."""
    db.execute(
        "CREATE TABLE comment_counts (account TEXT NOT NULL, status TEXT NOT NULL,"
        " n INTEGER NOT NULL, PRIMARY KEY (account, status)) WITHOUT ROWID"
    )
    db.execute(
        "INSERT INTO comment_counts (account, status, n)"
        " SELECT account, status, count(*) FROM comments GROUP BY status, account"  # the index's order
    )


def _v15_drop_status_account_index(db: sqlite_utils.Database) -> None:
    """Step 10's (status, account) index answered `status`'s counts and the accounts listing
    from the index alone; comment_counts (step 14) answers both now, and every status change a
    poll writes (hidden, deleted, back) rewrote an entry of it, besides the entry of the
    (status) index that the listings of deleted comments use."""
    db.execute("DROP INDEX IF EXISTS comments_status_account")


def _v16_notable_comments_index(db: sqlite_utils.Database) -> None:
    """The comments the rules read on a post that is not corrected (records.py's
    ``_RELEVANT_COMMENTS``: no longer plainly present, or the page's own), by post. Without it
    the engine read every comment of every post a poll touched to find the few hidden or
    deleted ones (98,000 rows for 1,005 on a churn re-poll of 100k comments). Partial: it holds
    only those comments, a few percent, so the poll's writes touch few of its pages."""
    db.execute(
        "CREATE INDEX comments_notable ON comments(post_id) WHERE status != 'present' OR from_page != 0"
    )


def _v17_gone_listing_index(db: sqlite_utils.Database) -> None:
    """``comments --status hidden --limit 100`` read every comment of that status through the
    (status) index and sorted them all by time before taking 100 (1 s at 1M, growing with the
    archive). This index lists them by time, so the listing reads its page and stops; partial,
    like step 16's, so the poll's status changes touch few of its pages. Present comments,
    most of the archive, are listed through ``comments_created`` (``queries.list_comments``)."""
    db.execute(
        "CREATE INDEX comments_gone_time ON comments(status, created_time, id) WHERE status != 'present'"
    )


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _v1_archive,
    _v2_staff_labels,
    _v3_install_id,
    _v4_version_search,
    _v5_interactions,
    _v6_verdicts,
    _v7_platform_status,
    _v8_bulk_comment_fts,
    _v9_listing_indexes,
    _v10_status_counts_index,
    _v11_comment_counts,
    _v12_drop_comment_counts,
    _v13_bulk_edit_fts,
    _v14_comment_counts,
    _v15_drop_status_account_index,
    _v16_notable_comments_index,
    _v17_gone_listing_index,
]
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(db: sqlite_utils.Database) -> int:
    if "meta" not in db.table_names():
        return 0
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        return 0
    try:
        return int(row[0])
    except (TypeError, ValueError):  # only a hand edit of the meta table writes anything else
        from guard.errors import ArchiveError

        raise ArchiveError(
            f"the archive's schema version {row[0]!r} is not a number: its meta table was edited; "
            "restore the archive from a backup"
        ) from None


def refuse_newer(found: int) -> None:
    """An archive of a newer schema may hold tables and statuses this code does not know:
    neither written nor read here."""
    if found > SCHEMA_VERSION:
        from guard.errors import ArchiveError

        raise ArchiveError(
            f"the archive was written by a newer comment-guard (schema {found} > "
            f"{SCHEMA_VERSION}); upgrade comment-guard to read it"
        )


def migrate(db: sqlite_utils.Database, *, before_upgrade: Callable[[int], None] | None = None) -> int:
    """Bring ``db`` to ``SCHEMA_VERSION``; returns the number of steps applied.
    ``before_upgrade`` hears the version found before anything is changed, and may refuse
    (raise): the CLI does while a daemon of the older release still writes the archive."""
    current = schema_version(db)
    refuse_newer(current)
    if current == SCHEMA_VERSION:
        return 0
    if before_upgrade is not None:
        before_upgrade(current)
    with db.atomic():
        # Read again under the write lock: another process (the daemon starting beside a
        # `status` after an upgrade) may have migrated the archive while this one waited for it.
        current = schema_version(db)
        refuse_newer(current)
        steps = MIGRATIONS[current:]
        if not steps:
            return 0
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        for step in steps:
            step(db)
        db.execute(
            "INSERT INTO meta(key, value) VALUES ('schema_version', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [str(SCHEMA_VERSION)],
        )
    return len(steps)
