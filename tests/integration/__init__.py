"""Tests against real servers (Dovecot, aiosmtpd, PostgreSQL)."""
