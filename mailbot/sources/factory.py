"""Open the right ``MailSource`` for one ``[[mailbox]]`` entry of the configuration."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from mailbot.config import Config, ImapMailbox, MaildirMailbox
from mailbot.errors import ConfigError
from mailbot.sources import MailSource


def open_source(
    cfg_mailbox: ImapMailbox | MaildirMailbox, config: Config, engine: Engine
) -> MailSource:
    """IMAP sources keep their cursor in ``engine``; relative paths follow the config file."""
    if isinstance(cfg_mailbox, ImapMailbox):
        from mailbot.sources.imap import ImapSource

        return ImapSource(cfg_mailbox, engine, base_dir=Path(config.base_dir))
    if isinstance(cfg_mailbox, MaildirMailbox):
        from mailbot.sources.maildir import MaildirSource

        return MaildirSource(cfg_mailbox, Path(config.base_dir))
    raise ConfigError(
        f"loại hộp thư không được hỗ trợ: {getattr(cfg_mailbox, 'kind', '?')}; dùng "
        'kind = "imap" hoặc kind = "maildir"',
        key="mailbox",
    )
