"""Machine-mail evidence from headers and MIME structure (RFC 3834, RFC 3464, list headers).

Header standards are fixed, so they live here; phrases (auto-reply subjects and bodies in
Vietnamese and English) live in rules/classification.toml.  A colleague forwarding a citizen's
mail carries none of these headers and is left to the human rules.
"""

from __future__ import annotations

import re

from mailbot.classify import RuleHit
from mailbot.parse import ParsedMail

_BOUNCE_SENDER = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.I)
_NOREPLY_SENDER = re.compile(r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|noreply[-_.]\w+)", re.I)


def machine_evidence(mail: ParsedMail) -> list[tuple[str, RuleHit]]:
    """(machine_kind, hit) pairs; scores add to tu_dong, kinds vote for machine_kind."""
    h = mail.headers
    out: list[tuple[str, RuleHit]] = []

    def add(kind: str, rule: str, score: float, detail: str = "") -> None:
        out.append((kind, RuleHit(rule, score, "header", detail)))

    auto = h.get("auto-submitted", "").strip().lower()
    if auto and not auto.startswith("no"):
        kind = "auto_reply" if auto.startswith("auto-replied") else "notification"
        add(kind, "header.auto_submitted", 5.0, auto[:40])
    prec = h.get("precedence", "").strip().lower()
    if prec in ("bulk", "list", "junk"):
        add("list", "header.precedence", 4.0, prec)
    elif prec == "auto_reply":
        add("auto_reply", "header.precedence", 5.0, prec)
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder"):
        if h.get(name):
            add("auto_reply", "header." + name, 5.0)
    if h.get("x-auto-response-suppress"):
        add("auto_reply", "header.x_auto_response_suppress", 1.0)
    if h.get("list-id") or h.get("list-unsubscribe") or h.get("list-post"):
        add("list", "header.list", 5.0)
    if h.get("feedback-id") or h.get("x-campaign") or h.get("x-mailer-campaign"):
        add("list", "header.campaign", 2.0)
    ctype = mail.content_type.lower()
    ctype_header = h.get("content-type", "").lower()
    if ctype == "multipart/report" or "multipart/report" in ctype_header:
        if "disposition-notification" in ctype_header:
            add("notification", "mime.read_receipt", 6.0)
        else:
            add("bounce", "mime.delivery_status", 6.0)
    if any(a.content_type.lower() == "message/delivery-status" for a in mail.attachments):
        add("bounce", "mime.delivery_status_part", 6.0)
    if any(a.content_type.lower() == "message/disposition-notification" for a in mail.attachments):
        add("notification", "mime.read_receipt_part", 6.0)
    if ctype == "text/calendar" or any(
        a.content_type.lower() == "text/calendar" or a.filename.lower().endswith(".ics")
        for a in mail.attachments
    ):
        add("notification", "mime.calendar", 5.0)
    if h.get("disposition-notification-to") and "read" in mail.subject.lower():
        add("notification", "header.receipt_request", 1.0)
    sender = mail.from_addr
    if _BOUNCE_SENDER.match(sender):
        add("bounce", "sender.mailer_daemon", 5.0)
    elif _NOREPLY_SENDER.match(sender):
        add("notification", "sender.noreply", 2.0)
    ret = h.get("return-path")
    if ret is not None and ret.strip() in ("<>", ""):
        add("bounce", "header.null_return_path", 3.0)
    if mail.returned_message_ids and ("bounce" in {k for k, _ in out}):
        add("bounce", "mime.returned_message", 1.0)
    return out
