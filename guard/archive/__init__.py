"""The archive: every SQL statement comment-guard runs lives in this package.

- ``connection``: open the SQLite file (WAL, foreign keys) and migrate it (``schema``);
- ``polls`` and ``poller``: the write path of a poll (what changed, written in one transaction);
- ``events``: the append-only, hash-chained event log;
- ``queries``: read-side queries behind the CLI;
- ``records``: policy records (``policies.records``) loaded from the archive;
- ``findings``, ``outbox``, ``meta``: the engine's findings, the alert outbox, small named values.

Other packages call these named functions and never write SQL themselves, so this package is
also the seam another database would need.
"""
