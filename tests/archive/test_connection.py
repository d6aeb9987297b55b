"""Opening the archive runs no sqlite-utils plugin on its connection."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlite_utils
from sqlite_utils import hookimpl
from sqlite_utils.plugins import pm

from guard.archive.connection import open_archive, open_archive_readonly


class _Probe:
    """A sqlite-utils plugin recording every connection it is offered."""

    def __init__(self) -> None:
        self.offered: list[object] = []

    @hookimpl
    def prepare_connection(self, conn: object) -> None:
        self.offered.append(conn)


@pytest.fixture
def probe() -> Iterator[_Probe]:
    plugin = _Probe()
    pm.register(plugin, name="cg-test-probe")
    try:
        yield plugin
    finally:
        pm.unregister(name="cg-test-probe")


def test_installed_plugins_never_touch_the_archive_connection(tmp_path, probe):
    """A plugin's prepare_connection hook runs neither on the writer nor on a read-only handle."""
    sqlite_utils.Database(memory=True)  # the probe is live: sqlite-utils' default runs it
    assert len(probe.offered) == 1
    open_archive(tmp_path / "a.db").conn.close()
    open_archive_readonly(tmp_path / "a.db").conn.close()
    assert len(probe.offered) == 1
