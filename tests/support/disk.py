"""A file system that runs out of room: ``os.fsync`` fails with ENOSPC while ``full`` is set,
which is where a small write to a full disk fails (the data sat in the page cache until then)."""

from __future__ import annotations

import errno
import os
from typing import Any

__all__ = ["FullDisk"]


class FullDisk:
    """Install with ``FullDisk(monkeypatch)``; set ``full = False`` when room is made."""

    def __init__(self, monkeypatch: Any) -> None:
        self.full = True
        self._fsync = os.fsync
        monkeypatch.setattr(os, "fsync", self._fail_while_full)

    def _fail_while_full(self, fd: int) -> None:
        if self.full:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._fsync(fd)
