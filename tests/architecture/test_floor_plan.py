"""The floor plan holds: no import cycles, connectors and policies stand on the ground floor
only, all SQL is in ``guard.archive``, and the engine never reaches a platform.

Built on grimp (the import graph behind import-linter), from the source on disk, so a new
module is checked the day it is added.
"""

from __future__ import annotations

import grimp
import pytest

PACKAGES = ("guard", "connectors", "policies")
# Imported by everything; imports nothing of ours above it.
GROUND_FLOOR = {
    "guard",
    "guard.errors",
    "guard.clock",
    "guard.durations",
    "guard.text",
    "guard.states",
    "guard.redact",
}
SQL_LIBRARIES = {"sqlite3", "sqlite_utils"}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(
        *PACKAGES, include_external_packages=True, exclude_type_checking_imports=False, cache_dir=None
    )


def _ours(graph: grimp.ImportGraph) -> set[str]:
    return {m for m in graph.modules if m.split(".")[0] in PACKAGES}


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & modules) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(modules):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            recurse = False
            for j in range(i, len(edges[node])):
                nxt = edges[node][j]
                if nxt not in index:
                    work.append((node, j + 1))
                    work.append((nxt, 0))
                    recurse = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if recurse:
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def test_no_module_imports_itself_back_through_others(graph):
    """No import cycles between modules, package ``__init__`` modules included."""
    assert _cycles(graph, _ours(graph)) == []


def test_connectors_and_policies_stand_on_the_ground_floor_only(graph):
    """connectors/ and policies/ import nothing from guard/ but errors, clock, durations,
    text and states."""
    bad = []
    for module in _ours(graph):
        if module.split(".")[0] not in ("connectors", "policies"):
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.startswith("guard") and imported not in GROUND_FLOOR:
                bad.append(f"{module} -> {imported}")
    assert bad == []


def test_ground_floor_imports_nothing_of_ours_above_it(graph):
    bad = [
        f"{m} -> {i}"
        for m in GROUND_FLOOR
        if m in graph.modules
        for i in graph.find_modules_directly_imported_by(m)
        if i.split(".")[0] in PACKAGES and i not in GROUND_FLOOR
    ]
    assert bad == []


def test_only_the_archive_package_talks_sql(graph):
    """Every SQL statement lives in guard/archive/: nothing else imports sqlite3 or sqlite_utils."""
    bad = [
        f"{m} -> {i}"
        for m in _ours(graph)
        for i in graph.find_modules_directly_imported_by(m)
        if i in SQL_LIBRARIES and not m.startswith("guard.archive")
    ]
    assert bad == []


def test_engine_and_policies_never_reach_a_platform(graph):
    """Deciding is pure: the engine and the policies import no connector module (records
    from connectors.base are data, not a platform)."""
    bad = [
        f"{m} -> {i}"
        for m in _ours(graph)
        if m == "guard.engine" or m.startswith("policies")
        for i in graph.find_modules_directly_imported_by(m)
        if i.startswith("connectors") or i in ("guard.actions", "tweepy", "pyfacebook", "requests")
    ]
    assert bad == []


def test_cycle_detector_finds_a_planted_cycle():
    """The check above can fail: a three-module loop and a self-contained pair are reported."""
    planted = grimp.ImportGraph()
    for importer, imported in (
        ("guard.a", "guard.b"),
        ("guard.b", "guard.c"),
        ("guard.c", "guard.a"),
        ("guard.c", "guard.d"),
        ("guard.x", "guard.y"),
        ("guard.y", "guard.x"),
    ):
        planted.add_import(importer=importer, imported=imported)
    assert sorted(_cycles(planted, set(planted.modules))) == [
        ["guard.a", "guard.b", "guard.c"],
        ["guard.x", "guard.y"],
    ]
