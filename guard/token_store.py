"""OAuth grants kept in files only the service user can read (``[guard] state_dir``).

A grant holds a refresh token: whoever reads it can act as the account. So the file is created
with mode 0600 (never widened by the umask or by an existing file), lives outside the config,
and is replaced atomically: the new grant goes to a temporary file in the same directory
(0600 from its first byte), is flushed to disk, then renamed over the old one. A crash leaves
the old grant or the new one, never half of either, and X's rotated refresh token is on disk
before it is first used.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Mapping
from pathlib import Path

from guard.errors import ConfigError

__all__ = ["FileTokenStore", "token_file"]


def token_file(state_dir: Path, account: str) -> Path:
    """Where the grant of ``account`` lives."""
    return state_dir / f"oauth-{account}.json"


class FileTokenStore:
    """``connectors.base.TokenStore`` on one 0600 JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> dict[str, str] | None:
        try:
            info = self.path.stat()
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(f"cannot read the token file {self.path}: {exc.strerror}") from None
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"the token file {self.path} is readable by others (mode {stat.S_IMODE(info.st_mode):04o}); "
                f"run `chmod 600 {self.path}`"
            )
        try:
            grant = json.loads(text)
        except ValueError:
            raise ConfigError(
                f"the token file {self.path} is not JSON; sign in again with `comment-guard auth`"
            ) from None
        if not isinstance(grant, dict):
            raise ConfigError(
                f"the token file {self.path} is not a grant; sign in again with `comment-guard auth`"
            )
        return {str(k): str(v) for k, v in grant.items()}

    def save(self, grant: Mapping[str, str]) -> None:
        data = json.dumps(dict(grant), indent=1, sort_keys=True).encode()
        # Named after this process and thread (the daemon's Slack app replies from a thread of
        # its own): one left over can only be from a writer that died (a crash mid-write, then a
        # reboot that reused the pid), never from a live one.
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _discard(tmp)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_TRUNC, 0o600)
            try:
                os.fchmod(fd, 0o600)  # whatever the umask said
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)  # the rename itself survives a power cut
            finally:
                os.close(dir_fd)
        except FileExistsError:
            raise ConfigError(
                f"another process is writing the token file {self.path} right now; try again"
            ) from None
        except OSError as exc:
            # A full disk, say: the half-written grant holds a refresh token and, left behind,
            # would also refuse this process's next save.
            _discard(tmp)
            raise ConfigError(f"cannot write the token file {self.path}: {exc.strerror}") from None


def _discard(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
