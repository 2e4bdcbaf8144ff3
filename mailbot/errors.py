"""One exception hierarchy; every message says what happened and what to do next.

Messages are written for the person who must act (a clerk or the IT staff), so they
name the file, setting or server involved and the fix.
"""

from __future__ import annotations


class MailbotError(Exception):
    """Root of every error mailbot raises on purpose."""


class ConfigError(MailbotError):
    """The configuration file is missing, malformed or has a wrong value."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None) -> None:
        where = ""
        if file and key:
            where = f"{file}: [{key}] "
        elif file:
            where = f"{file}: "
        elif key:
            where = f"[{key}] "
        super().__init__(f"{where}{message}")
        self.file = file
        self.key = key


class SourceError(MailbotError):
    """A mailbox (IMAP server or Maildir) could not be read."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class ParseError(MailbotError):
    """A mail could not be turned into a usable message; it is quarantined."""


class RuleError(MailbotError):
    """A file in rules/ is malformed; the message names the file and the entry."""


class TemplateError(MailbotError):
    """A mail or page template is missing or failed to render."""


class SendError(MailbotError):
    """An outgoing mail could not be handed to the SMTP server.

    permanent=True means retrying will not help (e.g. the recipient was refused).
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class DossierError(MailbotError):
    """An action on a dossier is not allowed (unknown code, wrong status, no right)."""


class ExportError(MailbotError):
    """A report could not be computed, written or merged."""
