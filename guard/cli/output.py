"""Turning rows into what a person (table) or a script (JSON) reads.

Everything printed goes through :func:`echo` (or the table and JSON helpers built on it): archive
text is hostile input (a comment can carry ESC/OSC sequences that erase lines, rewrite the
terminal title or the clipboard, and bidi overrides that reverse what it appears to say), so
control characters are made visible (``guard.text.inert``), and an error text quoting a token is
scrubbed (``guard.redact.scrub``) before it reaches the screen.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import unicodedata
from datetime import tzinfo
from typing import Any, Callable, Iterable, Sequence

import click

from guard.clock import local_time
from guard.redact import scrub
from guard.text import inert, one_line

__all__ = [
    "echo",
    "emit_json",
    "emit_table",
    "excerpt",
    "limited",
    "one_line",
    "display_width",
    "listing_options",
    "progress",
    "row_limit",
    "safe",
    "to_terminal",
    "writer_lock",
]

TERMINAL_ROWS = 100  # a listing on a terminal stops here unless --limit or --all says otherwise

# JSON escapes C0 itself; these it would pass through raw with ensure_ascii=False.
_JSON_UNSAFE = re.compile(
    "[\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def safe(text: Any) -> str:
    """``text`` as a terminal may print it: scrubbed of secrets, control characters visible."""
    return inert(scrub(str(text)))


def echo(message: Any = "", *, err: bool = False) -> None:
    """``click.echo`` for anything that may contain archive or platform text."""
    click.echo(safe(message), err=err)


def emit_json(data: Any) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    # Same data for a JSON reader, inert for a terminal: \uXXXX for bidi/C1/zero-width.
    text = _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    click.echo(scrub(text))


def excerpt(text: str | None, width: int = 60) -> str:
    """``text`` on one line, cut to ``width`` terminal columns (see ``display_width``)."""
    line = one_line(text)
    if display_width(line) <= width:
        return line
    used = 0
    for i, ch in enumerate(line):
        used += _char_columns(ch)
        if used > width - 1:
            return line[:i] + "…"
    return line


def display_width(text: str) -> int:
    """The terminal columns ``text`` takes: CJK, full-width and emoji characters two,
    combining marks and format characters (joiners, variation selectors) none. Counting
    characters instead misaligned every column after a Chinese name or an emoji."""
    return sum(_char_columns(ch) for ch in text)


def _char_columns(ch: str) -> int:
    if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


# Archive times (UTC ISO-8601) that a table shows in the configured time zone; JSON keeps UTC.
TIME_COLUMNS = frozenset(
    {
        "created_time",
        "first_seen",
        "last_seen",
        "seen_at",
        "opened_at",
        "updated_at",
        "resolved_at",
        "status_changed_at",
        "next_attempt_at",
        "created_at",
        "sent_at",
        "last_poll",
        "next_poll",
        "at",
    }
)
# Statuses worth a colour on a terminal (click's own styling: already a dependency, and
# click.echo drops the escape codes itself when the output is not a terminal).
_STATUS_COLOURS = {
    "deleted": "red",
    "hidden": "yellow",
    "unknown": "magenta",
    "failed": "red",
    "open": "yellow",
}


def emit_table(
    rows: Sequence[dict[str, Any]],
    columns: Iterable[str],
    *,
    empty: str = "nothing to show",
    tz: tzinfo | None = None,
) -> None:
    """A plain-text table. With ``tz``, time columns are shown in that zone ("2026-11-25
    14:05:09 CST"); a status column is coloured on a terminal only."""
    cols = list(columns)
    if not rows:
        echo(empty)
        return
    cells = [
        [
            _cell(
                local_time(r.get(c), tz, seconds=True) if tz and c in TIME_COLUMNS and r.get(c) else r.get(c)
            )
            for c in cols
        ]
        for r in rows
    ]
    widths = [max(len(c), *(display_width(row[i]) for row in cells)) for i, c in enumerate(cols)]
    # Fit the last column to a terminal; piped output (a file, grep) keeps every character.
    terminal = to_terminal()
    budget = shutil.get_terminal_size((120, 20)).columns if terminal else None
    if budget is not None and sum(widths) + 2 * len(widths) > budget and cols:
        widths[-1] = max(10, budget - sum(widths[:-1]) - 2 * len(widths))
    echo("  ".join(c.upper().ljust(w) for c, w in zip(cols, widths)).rstrip())
    for row in cells:
        parts = []
        for col, value, width in zip(cols, row, widths):
            text = _pad(excerpt(value, width), width)  # already inert: safe to style
            colour = _STATUS_COLOURS.get(value) if terminal and col in ("status", "state") else None
            parts.append(click.style(text, fg=colour) if colour else text)
        click.echo("  ".join(parts).rstrip())


def to_terminal(stream: Any = None) -> bool:
    """Whether ``stream`` (default stdout) is a terminal: listings are cut to fit and limited
    to 100 rows only there; piped output is complete."""
    stream = stream if stream is not None else sys.stdout
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def listing_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--limit N`` and ``--all`` for a listing command (parameters ``limit``, ``show_all``)."""
    command = click.option("--all", "show_all", is_flag=True, help="Every row (the default when piped).")(
        command
    )
    return click.option(
        "--limit",
        type=click.IntRange(1, None),
        default=None,
        metavar="N",
        help=f"At most N rows (default: {TERMINAL_ROWS} on a terminal, all when piped).",
    )(command)


def row_limit(limit: int | None, show_all: bool) -> int | None:
    """The number of rows to show: --all, --limit, or 100 on a terminal and all when piped."""
    if show_all:
        return None
    if limit is not None:
        return limit
    return TERMINAL_ROWS if to_terminal() else None


def limited(rows: Sequence[dict[str, Any]], limit: int | None) -> list[dict[str, Any]]:
    """The first ``limit`` rows; on a terminal, says how many more there are (not in JSON)."""
    if limit is None or len(rows) <= limit:
        return list(rows)
    if to_terminal():
        echo(f"(first {limit} rows shown; --limit N or --all for more)", err=True)
    return list(rows[:limit])


def progress(what: str, *, unit: str) -> Callable[..., None]:
    """A running count on stderr ("exporting: 12,000 versions") when stderr is a terminal; a
    no-op when it is piped or logged, so scripts and cron see only the result."""
    if not to_terminal(sys.stderr):
        return lambda n, done=False: None

    def tick(n: int, done: bool = False) -> None:
        click.echo(f"\r{what}: {n:,} {unit}" + ("\n" if done else ""), err=True, nl=False)

    return tick


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return inert(scrub(str(value)))


def writer_lock(database: Any, role: str) -> Any:
    """The archive's writer lock for a one-shot command (``poll --once``, ``deliver``): waits,
    saying so, behind another one-shot writer; refuses (``ArchiveBusy``) beside the daemon."""
    from guard.runtime.lock import WriterLock

    def waiting(pid: int | None, holder: str | None) -> None:
        who = f"comment-guard {holder or 'command'} (pid {pid or 'unknown'})"
        echo(f"waiting: {who} is writing to this archive; continuing when it is done", err=True)

    return WriterLock(database, role, on_wait=waiting)
