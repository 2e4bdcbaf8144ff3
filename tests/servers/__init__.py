"""Helpers that start real servers (Dovecot, aiosmtpd, PostgreSQL schemas) on loopback for tests."""
