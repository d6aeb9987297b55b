"""The email channel: ``[alerts.email]``, and one alert sent by SMTP (STARTTLS or SSL, optional
login), text and HTML in one message.

Config: ``smtp_host``, ``smtp_port``, ``starttls`` / ``ssl``, ``username_env`` and
``password_env`` (variables holding the login), ``from``, ``to``, ``escalation_to`` (who gets
escalations instead of ``to``), ``timeout``. Reminders and escalations reply to the first
alert's Message-ID, so mail clients thread them.

The ``Message-ID`` is derived from the install id and the outbox dedupe key, not random: the
outbox delivers at least once, so after a crash between "the server accepted it" and "we marked
it sent" the same alert is sent again, and it carries the same Message-ID. Mail clients and archives that
deduplicate on Message-ID then show it once.

SMTP replies map onto the outbox's two decisions: 4xx and network trouble are
``AlertRetryable``; 5xx (recipient rejected, authentication refused, ...) is ``AlertPermanent``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email.utils import parseaddr
from typing import TYPE_CHECKING, Callable, Sequence

from guard.alerts.channels.base import DEFERRED_KEY, ChannelSpec, OutboxItem, Sender, Undelivered
from guard.alerts.stages import FOLLOW_UP_STAGES, Stage
from guard.config_reader import Reader, read_secret
from guard.errors import AlertPermanent, AlertRetryable, ConfigError

if TYPE_CHECKING:  # rendering (and the rules it names) loads only where alerts are sent
    import smtplib
    from email.message import EmailMessage

    from guard.alerts.render import AlertMessage

__all__ = [
    "SPEC",
    "EmailSettings",
    "send_email",
    "build_email",
    "message_id_for",
    "email_recipients",
    "SmtpFactory",
]


@dataclass(frozen=True)
class EmailSettings:
    smtp_host: str
    from_addr: str
    to: tuple[str, ...]
    smtp_port: int = 587
    starttls: bool = True
    ssl: bool = False
    username_env: str | None = None
    password_env: str | None = None
    escalation_to: tuple[str, ...] = ()
    timeout: float = 30.0


def parse_settings(r: Reader) -> EmailSettings:
    """``[alerts.email]``; the TOML key ``from`` becomes ``from_addr``."""
    port = r.take("smtp_port", int, default=587)
    if not 0 < port < 65536:
        r.fail("smtp_port", f"{r.prefix}smtp_port = {port} is not a TCP port")
    to = r.strings("to")
    if not to:
        r.fail("to", f"{r.prefix}to must list at least one address")
    host = r.take("smtp_host", str, required=True)
    if not host.strip() or any(ch.isspace() for ch in host) or "/" in host:
        r.fail("smtp_host", f"{r.prefix}smtp_host = {host!r} is not a host name; e.g. smtp.example.org")
    addresses = {
        "from": (r.take("from", str, required=True),),
        "to": to,
        "escalation_to": r.strings("escalation_to"),
    }
    for key, values in addresses.items():
        for value in values:
            if not _is_address(value):
                r.fail(key, f"{r.prefix}{key}: {value!r} is not an email address; e.g. comms@example.org")
    timeout = float(r.take("timeout", (int, float), default=30.0))
    if not 0 < timeout <= 3600:
        r.fail("timeout", f"{r.prefix}timeout = {timeout:g} must be between 0 and 3600 seconds")
    out = EmailSettings(
        smtp_host=host,
        smtp_port=port,
        starttls=r.take("starttls", bool, default=True),
        ssl=r.take("ssl", bool, default=False),
        username_env=r.take("username_env", str),
        password_env=r.take("password_env", str),
        from_addr=addresses["from"][0],
        to=to,
        escalation_to=addresses["escalation_to"],
        timeout=timeout,
    )
    r.finish()
    if out.ssl and out.starttls:
        r.fail("ssl", f"{r.prefix}ssl and starttls are exclusive; set starttls = false with ssl = true")
    return out


_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+")  # a dot not required: root@localhost


def _is_address(value: str) -> bool:
    """One mailbox, bare or with a display name ("Comms <comms@example.org>"): a line break
    or control character would end the header it goes in, and a typo would fail every alert."""
    if any(ch < " " or ch == "\x7f" for ch in value):
        return False
    name, addr = parseaddr(value)
    return bool(_ADDRESS.fullmatch(addr)) and (value.strip() == addr or value.strip().endswith(f"<{addr}>"))


def secrets(settings: EmailSettings) -> list[tuple[str, str]]:
    return [
        (env, f"alerts.email.{key}")
        for key, env in (("username_env", settings.username_env), ("password_env", settings.password_env))
        if env
    ]


def senders(settings: EmailSettings) -> dict[str, Sender]:
    """``email``: follow-ups reply to the first alert's Message-ID so clients thread them."""

    def send(item: OutboxItem) -> Undelivered | None:
        ids = {"install_id": item.install_id, "from_addr": settings.from_addr}
        thread = (
            message_id_for(f"{item.finding_id}:{Stage.FIRST}:email", **ids)
            if item.finding_id is not None
            and (item.stage in FOLLOW_UP_STAGES or item.stage == Stage.RESOLVED)
            else None
        )
        refused = send_email(
            settings,
            item.message,
            to=item.message.to or email_recipients(settings, item.stage),
            # a resend to deferred recipients is the same message: the same Message-ID
            message_id=message_id_for(item.dedupe_key.split(DEFERRED_KEY)[0], **ids),
            references=thread,
        )
        if not refused:
            return None
        return Undelivered(
            deferred=tuple(addr for addr, (code, _) in refused.items() if 400 <= code < 500),
            refused=tuple(addr for addr, (code, _) in refused.items() if not 400 <= code < 500),
            detail="; ".join(f"{addr}: {code} {_text(resp)}" for addr, (code, resp) in refused.items()),
        )

    return {"email": send}


def email_recipients(email: EmailSettings, stage: str) -> tuple[str, ...]:
    """``escalation_to`` for escalations when set, else ``to``."""
    if stage == Stage.ESCALATION and email.escalation_to:
        return email.escalation_to
    return email.to


SPEC: ChannelSpec[EmailSettings] = ChannelSpec(
    name="email", parse=parse_settings, secrets=secrets, senders=senders
)

# smtplib, ssl and the email package load when a message is built or sent, not with the config
SmtpFactory = Callable[[EmailSettings], "smtplib.SMTP"]


def message_id_for(dedupe_key: str, *, install_id: str = "", from_addr: str = "") -> str:
    """The Message-ID for an outbox row: the same row of the same install always gives the
    same id (a resend dedupes), two installs never do (``install_id``, kept in the archive's
    ``meta``), and the right-hand side is the ``from`` address's domain, as RFC 5322 asks."""
    digest = hashlib.sha256(f"{install_id}:{dedupe_key}".encode()).hexdigest()
    return f"<{digest}@{_domain(from_addr)}>"


def _domain(address: str) -> str:
    from email.utils import parseaddr

    local, at, domain = parseaddr(address)[1].rpartition("@")
    domain = domain.strip().lower()
    return (
        domain
        if at and local and re.fullmatch(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?", domain)
        else "comment-guard"
    )


def build_email(
    settings: EmailSettings,
    message: AlertMessage,
    *,
    to: Sequence[str],
    message_id: str,
    references: str | None = None,
) -> EmailMessage:
    """The MIME message: multipart/alternative with the text part first, HTML second."""
    from email.message import EmailMessage
    from email.utils import formatdate

    msg = EmailMessage()
    msg["Subject"] = message.subject
    msg["From"] = settings.from_addr
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to alerts
    if references and references != message_id:
        msg["In-Reply-To"] = references
        msg["References"] = references
    msg.set_content(message.email_text or message.text or message.subject)
    if message.email_html:
        msg.add_alternative(message.email_html, subtype="html")
    return msg


def _connect(settings: EmailSettings) -> smtplib.SMTP:
    import smtplib
    import ssl

    if settings.ssl:
        return smtplib.SMTP_SSL(
            settings.smtp_host,
            settings.smtp_port,
            timeout=settings.timeout,
            context=ssl.create_default_context(),
        )
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout)
    if settings.starttls:
        smtp.starttls(context=ssl.create_default_context())
    return smtp


def send_email(
    settings: EmailSettings,
    message: AlertMessage,
    *,
    to: Sequence[str],
    message_id: str,
    references: str | None = None,
    smtp_factory: SmtpFactory = _connect,
) -> dict[str, tuple[int, bytes]]:
    """Deliver ``message`` to ``to``; return only once the server accepted it.

    A server that accepts some recipients and refuses others has still taken the message:
    that is success, with a warning in the log; the refused ones are returned (address ->
    (code, reply)), so the caller can send again to those deferred with a 4xx.
    """
    import smtplib
    import ssl

    if not to:
        raise AlertPermanent("no email recipients configured (alerts.email.to)")
    msg = build_email(settings, message, to=to, message_id=message_id, references=references)
    user, password = _credentials(settings)
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        smtp = smtp_factory(settings)
        try:
            if user is not None:
                smtp.login(user, password or "")
            refused = smtp.send_message(msg, from_addr=settings.from_addr, to_addrs=list(to))
        except BaseException:
            smtp.close()
            raise
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(f"{addr}: {code} {_text(resp)}" for addr, (code, resp) in exc.recipients.items())
        if any(400 <= c < 500 for c in codes):
            raise AlertRetryable(f"mail server {where} deferred every recipient: {detail}") from None
        raise AlertPermanent(f"mail server {where} rejected every recipient: {detail}") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise AlertPermanent(
            f"mail server {where} does not support what the config asks (STARTTLS or login): {exc}"
        ) from None
    except smtplib.SMTPResponseException as exc:
        text = f"mail server {where} answered {exc.smtp_code} {_text(exc.smtp_error)}"
        if 500 <= exc.smtp_code < 600:
            raise AlertPermanent(text) from None
        raise AlertRetryable(text) from None
    except ssl.SSLCertVerificationError as exc:
        raise AlertPermanent(
            f"mail server {where} has a certificate we cannot verify: {exc.verify_message}"
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise AlertRetryable(f"cannot deliver to mail server {where}: {exc or type(exc).__name__}") from None
    _quit(smtp)
    if refused:
        import structlog

        structlog.get_logger(__name__).warning(
            "email_recipients_refused", refused=sorted(refused), accepted=len(to) - len(refused)
        )
    return refused


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye, ignoring the answer: the server took the message with its 250 to DATA
    (RFC 5321 section 4.1.1.4), so a 421 or a dropped line at QUIT must neither resend the alert
    (``smtplib.SMTP.__exit__`` raises on any code but 221) nor mark it failed."""
    import smtplib

    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _credentials(settings: EmailSettings) -> tuple[str | None, str | None]:
    if not settings.username_env:
        return None, None
    user = read_secret(settings.username_env, "alerts.email.username_env")
    if not settings.password_env:
        raise ConfigError(
            "alerts.email.username_env is set but alerts.email.password_env is "
            "not; name the environment variable that holds the SMTP password"
        )
    return user, read_secret(settings.password_env, "alerts.email.password_env")


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
