"""Turning rows into what a person (table) or a script (JSON) reads."""

from __future__ import annotations

import json
import shutil
from typing import Any, Iterable, Sequence

import click

__all__ = ["emit_json", "emit_table", "excerpt"]


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def excerpt(text: str | None, width: int = 60) -> str:
    one_line = " ".join((text or "").split())
    return one_line if len(one_line) <= width else one_line[: width - 1] + "…"


def emit_table(
    rows: Sequence[dict[str, Any]], columns: Iterable[str], *, empty: str = "nothing to show"
) -> None:
    cols = list(columns)
    if not rows:
        click.echo(empty)
        return
    cells = [[_cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    budget = shutil.get_terminal_size((120, 20)).columns
    if sum(widths) + 2 * len(widths) > budget and cols:
        widths[-1] = max(10, budget - sum(widths[:-1]) - 2 * len(widths))
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(cols, widths)).rstrip())
    for row in cells:
        click.echo("  ".join(excerpt(v, w).ljust(w) for v, w in zip(row, widths)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
