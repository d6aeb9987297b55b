"""Measure the comment classifier against the hand-labelled set.

Run from the repo root: `python bench/classify.py`. Prints counts, precision and recall for
"critical", a per-category breakdown, and up to 20 misclassified rows, so a change to
`policies/classify.py` can be judged on numbers rather than on the examples one remembers.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from policies.classify import Classification, classify  # noqa: E402

__all__ = ["DATA", "Row", "Score", "load_rows", "score", "main"]

DATA = ROOT / "tests" / "data" / "comments_labelled.csv"


@dataclass(frozen=True)
class Row:
    """One labelled comment."""

    text: str
    critical: bool
    category: str
    changed_words: tuple[str, ...]


@dataclass(frozen=True)
class Score:
    """Confusion counts for the "critical" label, with the misclassified rows."""

    tp: int
    fp: int
    fn: int
    tn: int
    wrong: tuple[tuple[Row, Classification], ...]

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0


def load_rows(path: Path = DATA) -> list[Row]:
    """Read the labelled CSV (text, critical, category, changed_words)."""
    with path.open(newline="", encoding="utf-8") as f:
        return [
            Row(
                text=r["text"],
                critical=r["critical"].strip() == "1",
                category=r["category"].strip(),
                changed_words=tuple((r.get("changed_words") or "").split()),
            )
            for r in csv.DictReader(f)
        ]


def score(rows: list[Row]) -> Score:
    """Classify every row and count agreements with the label."""
    tp = fp = fn = tn = 0
    wrong: list[tuple[Row, Classification]] = []
    for row in rows:
        c = classify(row.text, changed_words=row.changed_words)
        if c.critical and row.critical:
            tp += 1
        elif c.critical:
            fp += 1
        elif row.critical:
            fn += 1
        else:
            tn += 1
        if c.critical != row.critical:
            wrong.append((row, c))
    return Score(tp, fp, fn, tn, tuple(wrong))


def main() -> int:
    rows = load_rows()
    s = score(rows)
    print(f"rows: {len(rows)}  labelled critical: {sum(r.critical for r in rows)}")
    print(f"tp={s.tp} fp={s.fp} fn={s.fn} tn={s.tn}")
    print(f"precision: {s.precision:.3f}  recall: {s.recall:.3f}")
    total = Counter(r.category for r in rows)
    errors = Counter(r.category for r, _ in s.wrong)
    print("\nerrors by category:")
    for cat in sorted(total):
        print(f"  {cat:<18} {errors[cat]:>3} / {total[cat]}")
    print(f"\nmisclassified ({len(s.wrong)}, showing up to 20):")
    for row, c in s.wrong[:20]:
        kind = "false positive" if c.critical else "false negative"
        why = "; ".join(c.reasons) or "no signal"
        print(f"  [{kind}] ({row.category}) {row.text!r}\n      -> {why}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
