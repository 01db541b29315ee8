"""Sending e-mail through an SMTP relay, and the rule that keeps ged's mail off internal hosts.

A recipient's domain is checked before anything is sent (RELIABILITY item 9): an address literal
(`x@[10.0.0.1]`) or a domain that resolves to a loopback, link-local, private or otherwise
non-public address is refused, so that a user cannot point notifications at the agency's own
machines. A domain that does not resolve at all is left to the relay, which bounces it.

Every message has a text part and an HTML part with the same words. The HTML part carries the
text's direction (``dir="rtl"`` for an Arabic e-mail), taken from its first letter as Unicode's
paragraph rule does: e-mails are written in their recipient's language and start with a greeting
in it (``ged.services.emails``), so the outbox keeps only the subject and the text.
"""

from __future__ import annotations

import html
import ipaddress
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid

from ged.config import MailSettings

Resolver = Callable[[str], Sequence[str]]

MAX_ADDRESS = 254
# Deliberately narrow: one local part, one domain, no spaces, quotes, comments or line breaks.
_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
    r"([A-Za-z0-9.-]{1,253}|\[(?:[Ii][Pp][Vv]6:)?[0-9A-Fa-f.:]{2,45}\])"
)
_IPV6_TAG = re.compile(r"^ipv6:", re.IGNORECASE)
# A right-to-left letter (Hebrew to Arabic, and Arabic presentation forms), or any other letter.
_STRONG = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]|([^\\W\\d_])")


class RecipientRefused(Exception):
    """The address is malformed or points at an internal host: never retried."""


class SendFailed(Exception):
    """The relay could not be reached or refused the message for now: retried later."""


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str


def is_rtl(text: str) -> bool:
    """True when the first letter is right to left (the paragraph's direction)."""
    match = _STRONG.search(text)
    return bool(match and match.group(1) is None)


def html_part(subject: str, body: str) -> str:
    """The text as an HTML page: escaped, line breaks kept, in the text's direction."""
    rtl = is_rtl(body)
    direction, language = ("rtl", "ar") if rtl else ("ltr", "fr")
    align = "right" if rtl else "left"
    return (
        f'<!DOCTYPE html>\n<html lang="{language}" dir="{direction}">\n<head>'
        f'<meta charset="utf-8"><title>{html.escape(subject)}</title></head>\n'
        f'<body dir="{direction}" style="text-align: {align}">\n'
        f'<div style="white-space: pre-wrap; font-family: sans-serif">{html.escape(body)}</div>\n'
        "</body>\n</html>\n"
    )


def resolve(host: str) -> list[str]:
    """Every address the name resolves to (A and AAAA); none when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError):
        return []
    return [str(info[4][0]) for info in infos]


def is_public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_recipient(address: str, resolver: Resolver, refuse_private: bool) -> str:
    """The address, stripped, if ged may send to it; `RecipientRefused` saying why otherwise."""
    cleaned = address.strip()
    if len(cleaned) > MAX_ADDRESS or not _ADDRESS.fullmatch(cleaned):
        raise RecipientRefused(f"adresse e-mail invalide : {cleaned[:80]!r}")
    if not refuse_private:
        return cleaned
    domain = cleaned.rsplit("@", 1)[1]
    if domain.startswith("["):
        addresses: Sequence[str] = [_IPV6_TAG.sub("", domain[1:-1])]
    else:
        addresses = resolver(domain.rstrip(".").lower())
    internal = [a for a in addresses if not is_public(a)]
    if internal:
        raise RecipientRefused(
            f"le domaine de {cleaned} désigne une adresse interne ({internal[0]}) : "
            "ged n'envoie pas d'e-mail vers le réseau local"
        )
    return cleaned


class SmtpMailer:
    """One SMTP connection per message; STARTTLS with a verified certificate when configured."""

    def __init__(self, settings: MailSettings, resolver: Resolver = resolve) -> None:
        self._settings = settings
        self._resolver = resolver

    @property
    def enabled(self) -> bool:
        return bool(self._settings.host)

    def check(self, address: str) -> str:
        return check_recipient(address, self._resolver, self._settings.refuse_private_recipients)

    def send(self, email: Email) -> None:
        settings = self._settings
        to = self.check(email.to)
        message = MIMEMultipart("alternative")
        message["From"] = settings.sender
        message["To"] = to
        # Header values are single lines: a subject built from user text must not add headers.
        subject = " ".join(email.subject.split())[:250]
        # `Header` keeps the spaces between encoded words; the newer `EmailMessage` folding drops
        # those at a fold, which glued two words of a long non-ASCII subject together.
        if subject.isascii():
            message["Subject"] = subject
        else:
            # A `Header` is what compat32 messages take (the stubs only say str).
            message["Subject"] = Header(subject, "utf-8")  # type: ignore[assignment]
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
        message.attach(MIMEText(email.body, "plain", "utf-8"))
        message.attach(MIMEText(html_part(subject, email.body), "html", "utf-8"))
        try:
            with smtplib.SMTP(
                settings.host, settings.port, timeout=settings.timeout_seconds
            ) as smtp:
                smtp.ehlo()
                if settings.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if settings.username:
                    smtp.login(settings.username, settings.password)
                smtp.send_message(message, to_addrs=[to])
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise RecipientRefused(
                    f"le relais refuse le destinataire {to} ({codes[0]})"
                ) from None
            raise SendFailed(f"destinataire refusé pour l'instant ({codes})") from None
        except smtplib.SMTPNotSupportedError:
            raise SendFailed(
                f"le relais {settings.host}:{settings.port} ne propose pas STARTTLS "
                "(désactivez mail.starttls seulement pour un relais local de confiance)"
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            raise SendFailed(
                f"envoi impossible par {settings.host}:{settings.port} : "
                f"{type(error).__name__}: {error}"
            ) from None
