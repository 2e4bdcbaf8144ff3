"""The one mapping from HTTP errors and MailbotError to Vietnamese error pages."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from mailbot.errors import DossierError, MailbotError

log = logging.getLogger("mailbot.web")

TITLES = {
    400: "Yêu cầu không hợp lệ",
    403: "Không có quyền truy cập",
    404: "Không tìm thấy trang",
    405: "Thao tác không được phép",
    409: "Không thực hiện được thao tác",
    413: "Dữ liệu gửi lên quá lớn",
    500: "Lỗi hệ thống",
}
DEFAULT_DETAIL = {
    400: "Yêu cầu gửi lên không hợp lệ. Hãy tải lại trang rồi thực hiện lại.",
    403: "Tài khoản của ông/bà không có quyền thực hiện thao tác này.",
    404: "Trang hoặc hồ sơ này không có, hoặc ông/bà không có quyền xem.",
    405: "Thao tác này không được phép trên trang này.",
    409: "Không thực hiện được thao tác này. Hãy tải lại trang để xem trạng thái mới nhất.",
    413: "Dữ liệu hoặc tệp gửi lên vượt quá dung lượng cho phép.",
    500: "Đã có lỗi trong hệ thống. Bộ phận kỹ thuật xem nhật ký để biết nguyên nhân.",
}


def error_page(request: Request, status: int, detail: str = "") -> HTMLResponse:
    title = TITLES.get(status, "Có lỗi")
    if not detail or detail.isascii() and status in DEFAULT_DETAIL:
        # Starlette's own English reasons ("Not Found") are replaced by Vietnamese text.
        detail = DEFAULT_DETAIL.get(status, detail)
    env = request.app.state.jinja
    user_known = "uid" in request.scope.get("session", {})
    html = env.get_template("error.html").render(
        title=title, detail=detail, status=status, user=None, logged_in=user_known,
        flashes=[], csrf_token="", path=request.url.path, is_leader=False,
        office=request.app.state.config.office,
    )
    return HTMLResponse(html, status_code=status)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_page(request, exc.status_code, str(exc.detail or ""))


async def dossier_error(request: Request, exc: Exception) -> Response:
    return error_page(request, 409, str(exc))


async def mailbot_error(request: Request, exc: Exception) -> Response:
    log.error("web: %s", exc)
    return error_page(request, 500, str(exc))


async def unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("web: unexpected error on %s", request.url.path)
    return error_page(request, 500)


HANDLERS = {
    HTTPException: http_error,
    DossierError: dossier_error,
    MailbotError: mailbot_error,
    Exception: unexpected_error,
}
