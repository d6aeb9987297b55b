"""What SQLite's WAL-index (the -shm file) says about an archive's WAL, for tests of when a
poll's pages are copied into the database."""

from __future__ import annotations

import struct
from pathlib import Path

__all__ = ["wal_state"]


def wal_state(path: Path) -> tuple[int, int, int]:
    """(frames in the WAL, frames of them copied into the database, the WAL's salt-1) from the
    WAL-index header (https://www.sqlite.org/walformat.html): mxFrame at byte 16, salt-1 at 32,
    nBackfill at 96, in the machine's byte order. Salt-1 changes when a writer starts the WAL
    again from its beginning, which it does only once every frame is copied."""
    head = (path.parent / f"{path.name}-shm").read_bytes()
    (frames,) = struct.unpack_from("=I", head, 16)
    (salt,) = struct.unpack_from("=I", head, 32)
    (copied,) = struct.unpack_from("=I", head, 96)
    return frames, copied, salt
