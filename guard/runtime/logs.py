"""structlog set-up: JSON lines for machines (daemon, pipes), a readable console on a TTY.

structlog itself is imported only when something logs: importing it costs more than the rest of
a one-shot command like ``status`` (it loads asyncio, and rich when installed), so the CLI calls
``configure_logging_on_use``, which configures structlog the moment a module imports it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Iterable, MutableMapping
from types import ModuleType
from typing import Any

from guard.redact import remember, scrub

__all__ = [
    "configure_logging",
    "configure_logging_on_use",
    "scrub_secrets",
    "bridge_scheduler_logs",
    "LEVELS",
]

LEVELS = ("debug", "info", "warning", "error")
_SECRET_KEYS = ("token", "password", "secret", "webhook_url", "access_token", "authorization")


def _drop_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Belt and braces: no log line may carry a value under a secret-looking key."""
    for key in list(event):
        if any(s in key.lower() for s in _SECRET_KEYS):
            event[key] = "[redacted]"
    return event


def configure_logging(level: str = "info", *, json: bool | None = None, stream: Any = None) -> None:
    import logging

    import structlog

    stream = stream or sys.stderr
    if json is None:
        json = not getattr(stream, "isatty", lambda: False)()
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _drop_secrets,
            structlog.processors.format_exc_info if json else structlog.dev.set_exc_info,
            renderer,
            _Scrubber(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=_LevelStreams.factory(stream),
        cache_logger_on_first_use=False,
    )


class _ConfigureWhenImported:
    """A ``sys.meta_path`` finder that lets structlog import as usual, then configures it before
    the importing module's next line, so no line is ever logged with structlog's defaults."""

    def __init__(self, level: str) -> None:
        self.level = level

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "structlog":
            return None
        sys.meta_path.remove(self)  # once; find the real spec without this finder
        spec = importlib.util.find_spec(name)
        loader = spec.loader if spec is not None else None
        if loader is not None:
            load = loader.exec_module

            def exec_module(module: ModuleType) -> None:
                load(module)
                configure_logging(self.level)

            loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def configure_logging_on_use(level: str) -> None:
    """``configure_logging(level)`` now when structlog is loaded, else when something imports it:
    a command that never logs (``--help``, ``status``, the listings) never loads structlog."""
    if "structlog" in sys.modules:
        configure_logging(level)
        return
    pending = next((f for f in sys.meta_path if isinstance(f, _ConfigureWhenImported)), None)
    if pending is not None:
        pending.level = level
    else:
        sys.meta_path.insert(0, _ConfigureWhenImported(level))


def scrub_secrets(values: Iterable[str]) -> None:
    """Remember these exact values as secrets (``guard.redact``): every rendered log line is
    scrubbed of them, and of token-shaped strings, by the last processor.

    ``_drop_secrets`` already blanks secret-looking *keys*; this catches a token that ends up
    inside a value (an exception message quoting a URL, a traceback). Values shorter than 8
    characters are skipped: blanking them would mangle ordinary words.
    """
    remember(*values)


class _Scrubber:
    """Runs after the renderer, so it sees the final text (tracebacks included)."""

    def __call__(self, _: Any, __: str, rendered: Any) -> Any:
        if isinstance(rendered, str):
            return scrub(rendered)
        if isinstance(rendered, dict):  # no renderer configured (e.g. capture_logs)
            for key, value in rendered.items():
                if isinstance(value, str):
                    rendered[key] = scrub(value)
        return rendered


def bridge_scheduler_logs() -> Callable[[], None]:
    """Route APScheduler's own errors to structlog; returns the undo function."""
    import logging

    import structlog

    class SchedulerLogBridge(logging.Handler):
        """APScheduler logs through stdlib logging; its errors go through structlog instead."""

        def emit(self, record: logging.LogRecord) -> None:
            structlog.get_logger(record.name).error(
                "scheduler_error",
                message=record.getMessage(),
                exc_info=record.exc_info if record.exc_info else None,
            )

    logger = logging.getLogger("apscheduler")
    handler = SchedulerLogBridge(level=logging.ERROR)
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.ERROR)  # skips/misses are logged by Daemon._on_skipped
    logger.propagate = False

    def undo() -> None:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]

    return undo


# syslog priorities for the journal (sd-daemon(3)): a "<N>" line prefix sets the priority.
_PRIORITY = {
    "debug": 7,
    "info": 6,
    "msg": 6,
    "warning": 4,
    "warn": 4,
    "error": 3,
    "exception": 3,
    "critical": 2,
}


class _LevelStreams:
    """The logger behind structlog: error lines go to stderr when the log is on stdout.

    Under systemd (``JOURNAL_STREAM`` names the stream's device and inode), every line starts
    with its syslog priority, ``<3>`` for errors, so ``journalctl -p err`` shows exactly the
    errors. Elsewhere lines are written as rendered.
    """

    def __init__(self, stream: Any, errors: Any) -> None:
        self.streams = {False: stream, True: errors}
        self.journal = {False: _is_journal(stream), True: _is_journal(errors)}

    @classmethod
    def factory(cls, stream: Any) -> Callable[..., _LevelStreams]:
        # Only a stdout log (the daemon) splits: errors then go to stderr. A log already on
        # stderr, or on a file a test passes, gets every line.
        return lambda *args: cls(stream, sys.stderr if stream is sys.stdout else stream)

    def _write(self, level: str, message: str) -> None:
        priority = _PRIORITY.get(level, 6)
        to_err = priority <= 3
        line = f"<{priority}>{message}" if self.journal[to_err] else message
        out = self.streams[to_err]
        out.write(line + "\n")
        out.flush()

    def __getattr__(self, level: str) -> Callable[[str], None]:
        if level not in _PRIORITY:
            raise AttributeError(level)
        return lambda message: self._write(level, message)


def _is_journal(stream: Any) -> bool:
    """Whether ``stream`` is the journal stream systemd connected (``JOURNAL_STREAM=dev:ino``)."""
    wanted = os.environ.get("JOURNAL_STREAM", "")
    try:
        st = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return wanted == f"{st.st_dev}:{st.st_ino}"
