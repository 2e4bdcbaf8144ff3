"""mailbot: the online-support mailbox assistant for THADS offices."""

__version__ = "0.1.0"
