"""CSRF protection: every form carries the session's random token; a POST without it is refused.

The token lives in the signed session cookie (SameSite=Lax as a second layer); it is compared
in constant time. A POST whose Origin header names another site is refused as well.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

FIELD = "csrf_token"
SESSION_KEY = "csrf"


def get_token(request: Request) -> str:
    token = request.session.get(SESSION_KEY)
    if not isinstance(token, str) or len(token) < 20:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = token
    return token


def rotate(request: Request) -> str:
    request.session[SESSION_KEY] = secrets.token_urlsafe(32)
    return str(request.session[SESSION_KEY])


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        # Browsers send "null" from sandboxed or privacy-sensitive contexts: rely on the token.
        return True
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc.lower() == host.lower()


def check(request: Request, form: FormData) -> None:
    """Raise 403 unless the form's token matches the session's."""
    expected = request.session.get(SESSION_KEY)
    sent = form.get(FIELD)
    if (
        not isinstance(expected, str)
        or not isinstance(sent, str)
        or not hmac.compare_digest(expected.encode(), sent.encode())
        or not _same_origin(request)
    ):
        raise HTTPException(
            403,
            "Biểu mẫu không hợp lệ hoặc phiên làm việc đã hết hạn. Hãy tải lại trang rồi "
            "thực hiện lại.",
        )
