"""Answering a records request: ``export`` (every version, filtered, streamed) and ``report``
(one post's evidence as HTML or PDF, printable and checkable).

Both only read; the queries live in ``guard.archive.export``.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

import click

from guard.archive.export import EXPORT_COLUMNS, RecordFilter, evidence, export_records, finding_post
from guard.archive.queries import locate
from guard.cli.context import Context, IsoDate, pass_ctx
from guard.cli.output import echo, progress
from guard.clock import utcnow
from guard.errors import GuardError, UsageError

__all__ = ["COMMANDS"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "csv", "ndjson"]),
    default=None,
    help="Default: from the -o file's extension (.csv, .ndjson/.jsonl), else json.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    default="-",
    help="File to write (default: stdout).",
)
@click.option("--account", metavar="NAME", help="Only this account's posts and comments.")
@click.option("--post", metavar="ID", help="Only this post and its comments.")
@click.option(
    "--since",
    type=IsoDate(),
    metavar="DATE",
    help="Created on or after this date or time (local time, [guard] timezone, unless an offset is given).",
)
@click.option(
    "--until",
    type=IsoDate(end_of_day=True),
    metavar="DATE",
    help="Created before this time; a bare date includes that whole day.",
)
@click.option(
    "--query",
    metavar="WORDS",
    help="Only posts and comments whose text (any version) or author matches, as in `search`.",
)
@click.option("--excel", is_flag=True, help="CSV: start with a UTF-8 byte-order mark so Excel reads accents.")
@click.option(
    "--raw",
    is_flag=True,
    help="CSV: write cells exactly as archived, even those a spreadsheet would run as a formula.",
)
@pass_ctx
def export(
    ctx: Context,
    fmt: str | None,
    output: str,
    account: str | None,
    post: str | None,
    since: datetime | None,
    until: datetime | None,
    query: str | None,
    excel: bool,
    raw: bool,
) -> None:
    """Export every version of every post and comment: who, when created, first seen, hidden
    and deleted (as recorded), the post's link, the text and its SHA-256.

    Streamed: memory stays flat however large the archive. Times are UTC ISO-8601. In CSV, a
    cell starting with = + - @ (or tab, carriage return) is prefixed with a single quote so a
    spreadsheet shows it instead of running it as a formula; --raw turns this off (the SHA-256
    column always hashes the archived text, not the quoted cell)."""
    fmt = fmt or _format_from_name(output)
    if excel and fmt != "csv":
        raise UsageError("--excel is for CSV (a byte-order mark for Excel); add --format csv")
    if account is not None and account not in {a.name for a in ctx.config.accounts}:
        known = ", ".join(a.name for a in ctx.config.accounts)
        raise UsageError(f"no account {account!r} in {ctx.config.path}; accounts: {known}")
    if post is not None:  # an unknown id would answer a records request with nothing, exit 0
        kind, _, post_of = locate(ctx.read_db, post)
        if kind != "post":
            raise UsageError(f"{post!r} is a comment, not a post; its post is {post_of!r} (--post {post_of})")
    filters = RecordFilter(
        account=account, post=post, since=ctx.utc(since), until=ctx.utc(until), query=query
    )
    if filters.since is not None and filters.until is not None and filters.since >= filters.until:
        raise UsageError("--until is not after --since, so no record could match; swap the two dates")
    rows = export_records(ctx.read_db, filters)
    first = next(rows, None)  # a bad --query fails here, before the file is created
    stream = _counted(first, rows, output)
    if output == "-":
        out = sys.stdout
        if excel:
            out.write("\ufeff")
        count = _WRITERS[fmt](out, stream, raw=raw)
        out.flush()  # a write error (a full disk under `> file`) is ours to report, not exit's
    else:
        try:  # newline="": the csv module writes its own \r\n line ends
            handle = open(output, "w", encoding="utf-8-sig" if excel else "utf-8", newline="")  # noqa: SIM115
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
        try:
            with handle as out:
                count = _WRITERS[fmt](out, stream, raw=raw)
        except KeyboardInterrupt:  # a cut-off export would pass for a whole (smaller) one
            Path(output).unlink(missing_ok=True)
            raise
        except OSError as exc:  # a full disk mid-stream: the same
            Path(output).unlink(missing_ok=True)
            raise GuardError(
                f"cannot write {output}: {exc.strerror or exc}; the incomplete file was removed"
            ) from None
    if output != "-":
        echo(f"wrote {count} version(s) to {output}", err=True)


def _format_from_name(output: str) -> str:
    suffix = Path(output).suffix.lower()
    return {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson"}.get(suffix, "json")


def _counted(
    first: dict[str, Any] | None, rest: Iterator[dict[str, Any]], output: str
) -> Iterator[dict[str, Any]]:
    """The rows, with a running count on stderr when it is a terminal and stdout is a file."""
    if first is None:
        return
    tick = progress("exporting", unit="versions") if output != "-" else None
    yield first
    n = 1
    for row in rest:
        n += 1
        if tick is not None and n % 1000 == 0:
            tick(n)
        yield row
    if tick is not None:
        tick(n, done=True)


# One encoder for every row (``json.dumps`` with an option builds one per call): the same text.
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
# Valid raw in JSON, but line breaks to `str.splitlines`, editors and pre-2019 JavaScript: raw,
# a comment holding one splits its NDJSON row in two for those readers.
_LINE_BREAKS = re.compile("[\x85\u2028\u2029]")


def _row(row: dict[str, Any]) -> str:
    return _LINE_BREAKS.sub(lambda m: f"\\u{ord(m.group()):04x}", _ENCODE(row))


def _write_json(out: IO[str], rows: Iterable[dict[str, Any]], *, raw: bool) -> int:
    """A JSON array written row by row (never the whole list in memory)."""
    count = 0
    out.write("[")
    for row in rows:
        out.write(",\n  " if count else "\n  ")
        out.write(_row(row))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def _write_ndjson(out: IO[str], rows: Iterable[dict[str, Any]], *, raw: bool) -> int:
    count = 0
    for row in rows:
        out.write(_row(row) + "\n")
        count += 1
    return count


def _write_csv(out: IO[str], rows: Iterable[dict[str, Any]], *, raw: bool) -> int:
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow(row if raw else _neutralised(row))
        count += 1
    return count


_WRITERS = {"json": _write_json, "ndjson": _write_ndjson, "csv": _write_csv}


def _neutralised(row: dict[str, Any]) -> dict[str, Any]:
    """A spreadsheet runs a cell starting with = + - @ as a formula (``=HYPERLINK(...)``,
    ``=cmd|...``); a leading ' makes it text (OWASP's CSV-injection advice)."""
    return {k: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v for k, v in row.items()}


@click.command()
@click.argument("post_id", required=False)
@click.option(
    "--finding", "finding_id", type=click.IntRange(1, 2**63 - 1), help="Report on this finding's post."
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    required=True,
    help="report.html or report.pdf (the extension picks the format).",
)
@click.option(
    "--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True, help="Page size."
)
@pass_ctx
def report(ctx: Context, post_id: str | None, finding_id: int | None, output: str, paper: str) -> None:
    """An evidence report on one post: its versions with word diffs, the whole comment thread
    with every version and status change on a timeline, the findings and who acted, the SHA-256
    of every text and the archive's chain head, with how to check them (`verify --head`)."""
    from guard.report import render_html, write_pdf

    if (post_id is None) == (finding_id is None):
        raise UsageError("report needs a POST_ID or --finding N (one of them)")
    suffix = Path(output).suffix.lower()
    if suffix not in (".html", ".htm", ".pdf"):
        raise UsageError(f"cannot tell the format of {output!r}: name it report.html or report.pdf")
    db = ctx.read_db
    post = post_id if post_id is not None else finding_post(db, finding_id or 0)
    data = evidence(db, post)
    html = render_html(
        data,
        tz=ctx.tz,
        tz_name=ctx.config.guard.timezone,
        generated=utcnow(),
        paper=paper,
        finding_id=finding_id,
    )
    target = Path(output)
    if not target.parent.is_dir():
        raise UsageError(f"cannot write {output}: directory {target.parent} does not exist")
    try:
        if suffix == ".pdf":
            write_pdf(html, target)
        else:
            target.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    echo(
        f"wrote {output}: post {post}, {len(data['post']['versions'])} version(s), "
        f"{len(data['events'])} event(s), {len(data['findings'])} finding(s); "
        f"chain head {data['head'] or '-'} (check it later: comment-guard verify --head HASH)"
    )


COMMANDS = [export, report]
