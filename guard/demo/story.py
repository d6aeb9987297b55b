"""``comment-guard demo``: the story comment-guard exists for, replayed live in 30 seconds.

Nothing is mocked below the sandbox: a local Graph API stand-in (``guard.sandbox``) plays the
page, and every step is a real poll (``guard.pipeline.run_poll``) through the real Facebook
connector, archive, policy engine and alert outbox. Alerts leave through the real Slack and
email senders, to loopback sinks (``guard._demo_sinks``), so what the demo prints is what staff
would receive. It needs no account, no token and no network, and ends by showing that the
deleted comment is still in the archive, with the command to see it yourself.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import secrets
import shlex
import shutil
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import click

from guard.alerts.outbox import deliver_pending
from guard.archive import queries
from guard.archive.connection import Archive, open_archive
from guard.archive.findings import list_findings
from guard.archive.outbox import count_by_status
from guard.cli.output import emit_table, excerpt
from guard.clock import utcnow
from guard.config import Config, load_config
from guard.demo.sandbox import Sandbox
from guard.demo.sinks import MailSink, SlackWebhookSink, blocks_as_text
from guard.durations import format_duration
from guard.errors import GuardError, UsageError
from guard.runtime.pipeline import PollOutcome, run_poll

__all__ = [
    "run_demo",
    "DemoResult",
    "POST_TEXT",
    "FIXED_TEXT",
    "QUESTION",
    "ORDINARY",
    "SPAM",
    "CONFIG_NAME",
    "DATABASE_NAME",
]

POST_TEXT = "Reminder: our community meeting is Thursday at 7pm in the library. Everyone welcome!"
FIXED_TEXT = "Reminder: our community meeting is the Thirteenth at 7pm in the library. Everyone welcome!"
QUESTION = "wait, the meeting is TONIGHT?!?"
ORDINARY = "See you there 👋"
SPAM = "WIN a free iPhone!!! http://spam.example"

CONFIG_NAME = "comment-guard-demo.toml"
DATABASE_NAME = "demo.db"
SLACK_COPY = "alert-slack.json"
EMAIL_COPY = "alert-email.eml"
ENV_FILE = "demo.env"  # with --keep: the stand-in's token and Slack sink, for another shell
TOKEN_ENV = "COMMENT_GUARD_DEMO_TOKEN"
SLACK_ENV = "COMMENT_GUARD_DEMO_SLACK_WEBHOOK"
ACCOUNT = "riverside-page"
_OWN_FILES = (
    CONFIG_NAME,
    DATABASE_NAME,
    f"{DATABASE_NAME}-wal",
    f"{DATABASE_NAME}-shm",
    SLACK_COPY,
    EMAIL_COPY,
    ENV_FILE,
)


@dataclass
class DemoResult:
    """Where the demo left its files, and what it found (tests read this)."""

    workdir: Path
    config_path: Path
    database: Path
    finding_ids: list[int] = field(default_factory=list)


def run_demo(
    *,
    workdir: Path | None = None,
    speed: float = 1.0,
    keep: Callable[[DemoResult, Path], None] | None = None,
) -> DemoResult:
    """Play the story; raise ``GuardError`` if comment-guard fails to catch it.

    ``keep``: called after the story with the result and the path of an env file holding the
    stand-in's token and the Slack sink's address; the stand-in page and the sinks stay up
    until it returns, so ``poll --once``, ``run`` and ``check --live`` can be tried on them."""
    workdir = _prepare(workdir)
    with ExitStack() as stack:
        token = f"demo-{secrets.token_hex(12)}"
        sandbox = stack.enter_context(Sandbox(token=token))
        slack = stack.enter_context(SlackWebhookSink())
        mail = stack.enter_context(MailSink())
        stack.enter_context(_environ({TOKEN_ENV: token, SLACK_ENV: slack.url}))
        config_path = workdir / CONFIG_NAME
        config_path.write_text(_config_text(sandbox.base_url, mail.port), encoding="utf-8")
        config = load_config(config_path)
        db = open_archive(config.guard.database)
        stack.callback(db.conn.close)
        story = _Story(sandbox, config, db, speed)
        result = DemoResult(workdir, config_path, Path(config.guard.database))
        story.intro(workdir, config_path)
        result.finding_ids = story.play()
        story.show_findings()
        story.show_alerts(slack, mail, workdir)
        story.show_archive(config_path)
        if keep is not None:
            env_file = workdir / ENV_FILE
            env_file.touch(mode=0o600)  # the token is a throwaway, but a token: the owner's eyes only
            env_file.write_text(
                "".join(
                    f"export {k}={shlex.quote(v)}\n" for k, v in ((TOKEN_ENV, token), (SLACK_ENV, slack.url))
                ),
                encoding="utf-8",
            )
            keep(result, env_file)
    return result


class _Story:
    def __init__(self, sandbox: Sandbox, config: Config, db: Archive, speed: float) -> None:
        self.sandbox, self.config, self.db, self.speed = sandbox, config, db, speed
        self.account = config.account(ACCOUNT)
        self.polls = 0

    # -- the four steps ------------------------------------------------------------------------

    def intro(self, workdir: Path, config_path: Path) -> None:
        say("comment-guard demo: a post gets quietly corrected and a reader's question vanishes.", bold=True)
        say(
            f"A stand-in for the Facebook Graph API is serving the page "
            f'"{self.sandbox.page_name}" at {self.sandbox.base_url}'
        )
        say(f"Demo files (config, archive, alert copies) are in {workdir}")
        say("Every step below is a real poll: Facebook connector → archive → policies → alerts.")

    def play(self) -> list[int]:
        sb = self.sandbox
        self.step(1, "the page posts a reminder")
        post = sb.add_post(POST_TEXT)
        quote(POST_TEXT)
        self.poll()

        self.step(2, "readers comment")
        question = sb.add_comment(post, QUESTION, author="Dana Reader")
        sb.add_comment(post, ORDINARY, author="Sam Neighbor")
        spam = sb.add_comment(post, SPAM, author="Prize Bot")
        for who, text in (("Dana Reader", QUESTION), ("Sam Neighbor", ORDINARY), ("Prize Bot", SPAM)):
            quote(text, who)
        self.poll()

        self.step(3, "staff quietly fix the post (the meeting is on the 13th, not Thursday)")
        sb.edit_post(post, FIXED_TEXT)
        quote(FIXED_TEXT)
        self.poll()
        diff = queries.history(self.db, post)["versions"][-1]["diff_text"]
        wrap(f"the archive keeps both versions; what changed: {diff}", "  ")

        self.step(4, "staff delete Dana's question (and the spam), without answering it")
        sb.delete_comment(question)
        sb.delete_comment(spam)
        outcome = self.poll()
        if not outcome.findings_opened:
            raise GuardError(
                "the demo expected comment-guard to open a removed-critical "
                "finding for the deleted question, and it opened none; "
                "please report this"
            )
        return outcome.findings_opened

    def step(self, n: int, what: str) -> None:
        self.pause(1.5)
        say("")
        say(f"Step {n} — {what}", bold=True)

    def poll(self) -> PollOutcome:
        self.pause(0.5)
        outcome = run_poll(self.config, self.db, self.account)
        self.polls += 1
        r = outcome.poll
        if r.error is not None:
            raise GuardError(f"demo poll {self.polls} failed: {r.error}")
        say(
            f"  poll {self.polls}: {_describe(r.counts)}"
            f" ({r.api_calls} API call{'s' if r.api_calls != 1 else ''})"
        )
        if outcome.findings_opened:
            say(f"  → {len(outcome.findings_opened)} new finding: staff are alerted now")
        return outcome

    def pause(self, seconds: float) -> None:
        if self.speed > 0:
            time.sleep(seconds * self.speed)

    # -- what comment-guard did about it ---------------------------------------------------------

    def show_findings(self) -> None:
        self.pause(1.5)
        say("")
        say("What comment-guard found (SELECT * FROM findings)", bold=True)
        for row in reversed(list_findings(self.db, state="all")):
            evidence = row.pop("evidence")
            for key, value in row.items():
                if value is not None:
                    wrap(str(value), f"  {key:<16}", " " * 18)
            comment = evidence.get("comment") or {}
            say(f"  {'evidence':<16}{evidence.get('summary', '')}")
            say(f'  {"":<16}comment: "{comment.get("message", "")}" [{comment.get("status", "?")}]')
            wrap(f"why protected: {'; '.join(evidence.get('reasons') or [])}", " " * 18)
            correction = evidence.get("correction") or {}
            if correction.get("summary"):
                say(f"  {'':<16}what was corrected: {correction['summary']}")
            say("")
        say("  Dana's question is protected: it asks about the very thing that was corrected.")
        say("  The spam was deleted too, and that is fine: spam is never protected.")

    def show_alerts(self, slack: SlackWebhookSink, mail: MailSink, workdir: Path) -> None:
        report = deliver_pending(self.db, self.config.alerts, now=utcnow())
        if report.failed or report.retrying:
            raise GuardError(f"demo alert delivery failed: {report.errors}")
        self.pause(1.5)
        say("")
        say("The alert, as it arrives in Slack (Block Kit, rendered as text)", bold=True)
        for payload in slack.received:
            (workdir / SLACK_COPY).write_text(
                json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8"
            )
            for line in blocks_as_text(payload.get("blocks") or []):
                wrap(line, "  │ ", "  │   ") if line else say("  │")
        say(f"  (the exact webhook JSON is in {workdir / SLACK_COPY})")
        self.pause(1.5)
        say("")
        say("The same alert by email (received by a local mail sink)", bold=True)
        for raw in mail.received:
            (workdir / EMAIL_COPY).write_bytes(raw)
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            for header in ("From", "To", "Subject", "Message-ID"):
                say(f"  │ {header}: {msg[header]}")
            say("  │")
            body = _text_part(msg)
            for line in body.rstrip().splitlines():
                say(f"  │ {line}".rstrip())
        say(f"  (the raw message, with its HTML part, is in {workdir / EMAIL_COPY})")
        pending = count_by_status(self.db).get("pending", 0)
        if pending:
            wrap(
                f"{pending} reminder(s) wait in the outbox, to go out if nobody answers "
                f"publicly within {format_duration(self.config.policy.reply_within)}.",
                "  ",
            )

    def show_archive(self, config_path: Path) -> None:
        self.pause(1.5)
        cmd = f"{_command()} --config {shlex.quote(str(config_path))}"
        say("")
        say("The deleted comments are still in the archive, word for word", bold=True)
        say(f"  $ {cmd} comments --status deleted")
        emit_table(
            queries.list_comments(self.db, status="deleted"),
            ["id", "status", "author", "created_time", "message"],
            empty="no comments match",
        )
        say("")
        say("Try it yourself against the demo archive:", bold=True)
        post = queries.list_posts(self.db)[-1]["id"]
        question = next(c["id"] for c in queries.list_comments(self.db) if c["message"] == QUESTION)
        for args, why in (
            (("comments", "--status", "deleted"), "deleted comments, kept"),
            (("thread", post), "the post, both versions, every comment"),
            (("history", question), "the question's record and events"),
            (("findings",), "what needs a human"),
            (("verify",), "prove the record was not altered"),
        ):
            say(f"  {cmd} {' '.join(shlex.quote(a) for a in args)}")
            say(f"      # {why}")
        say("")
        say("Next: browse it as staff would, in a web browser (read-only, on 127.0.0.1):", bold=True)
        say(f"  {cmd} serve")
        say("      # open findings, deleted comments, every version of the post; Ctrl-C stops")


def say(text: str, *, bold: bool = False) -> None:
    click.echo(click.style(text, bold=True) if bold else text)


def wrap(text: str, first: str, rest: str | None = None) -> None:
    for line in textwrap.wrap(
        text, width=96, initial_indent=first, subsequent_indent=rest if rest is not None else " " * len(first)
    ):
        say(line)


def quote(text: str, who: str | None = None) -> None:
    prefix = f"  {who}: " if who else "  "
    wrapped = textwrap.wrap(f"“{text}”", width=88, initial_indent=prefix, subsequent_indent=" " * len(prefix))
    for line in wrapped:
        say(line)


_WORDS = (
    ("post_added", "new post", "new posts"),
    ("post_edited", "post edited (new version archived)", "posts edited"),
    ("comment_added", "new comment", "new comments"),
    ("comment_edited", "comment edited", "comments edited"),
    ("comment_hidden", "comment hidden", "comments hidden"),
    (
        "comment_deleted",
        "comment confirmed deleted by the platform",
        "comments confirmed deleted by the platform",
    ),
)


def _describe(counts: dict[str, int]) -> str:
    parts = [f"{counts[k]} {one if counts[k] == 1 else many}" for k, one, many in _WORDS if counts.get(k)]
    return ", ".join(parts) or "no changes"


def _text_part(msg: Any) -> str:
    if isinstance(msg, EmailMessage):
        part = msg.get_body(preferencelist=("plain",))
        if part is not None:
            return str(part.get_content())
    return excerpt(str(msg), 2000)


def _prepare(workdir: Path | None) -> Path:
    """A fresh temporary directory, or ``workdir`` with any earlier demo's files removed
    (the sandbox reuses ids, so an old archive would mix two stories)."""
    if workdir is None:
        return Path(tempfile.mkdtemp(prefix="comment-guard-demo-"))
    workdir = workdir.expanduser().resolve()
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        for name in _OWN_FILES:
            (workdir / name).unlink(missing_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot use {workdir} for the demo's files: {exc.strerror or exc}") from None
    return workdir


def _config_text(base_url: str, smtp_port: int) -> str:
    return f"""\
# Written by `comment-guard demo`. The API and mail server it names existed only while the
# demo ran; the archive ({DATABASE_NAME}) stays, so the read commands work on it.
[guard]
database = "{DATABASE_NAME}"
mode = "observe"

[[accounts]]
name = "{ACCOUNT}"
platform = "facebook"
page_id = "100200300"
token_env = "{TOKEN_ENV}"
poll_every = "1m"
api_base_url = "{base_url}"

[alerts.slack]
webhook_url_env = "{SLACK_ENV}"

[alerts.email]
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
starttls = false
from = "comment-guard@localhost"
to = ["comms-team@localhost"]
"""


@contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """Set variables for the demo's own process only, and put everything back after."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _command() -> str:
    """How the user can run comment-guard: by name when it is on PATH (after `make demo` it
    usually is not: the virtualenv's bin directory is not activated)."""
    if shutil.which("comment-guard"):
        return "comment-guard"
    argv0 = Path(sys.argv[0])
    if argv0.name == "comment-guard" and argv0.exists():
        return shlex.quote(os.path.relpath(argv0) if not argv0.is_absolute() else str(argv0))
    return "comment-guard"
