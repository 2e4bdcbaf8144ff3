"""Public pages (no login): procedures handled online, units' contact points, the rating link."""

from __future__ import annotations

from starlette.responses import Response

from mailbot import ratings
from mailbot.errors import DossierError
from mailbot.web.auth import Ctx, page
from mailbot.web.units import unit_choices

# The three procedures of online support (QĐ 536/QĐ-TCTHADS), complaints and denunciations
# listed apart, then questions.
PROCEDURES = ("yeu_cau_thi_hanh_an", "xac_nhan_ket_qua", "khieu_nai", "to_cao", "hoi_dap")


def _statutory(ctx: Ctx) -> dict[str, list[object]]:
    from mailbot.deadlines import DeadlinePolicy

    policy = DeadlinePolicy.load(ctx.config.rules_path)
    out: dict[str, list[object]] = {}
    for rtype in PROCEDURES:
        out[rtype] = list(policy.statutory(rtype, ctx.today))
    return out


def _reply_days(ctx: Ctx) -> dict[str, int | None]:
    from mailbot.deadlines import DeadlinePolicy

    policy = DeadlinePolicy.load(ctx.config.rules_path)
    return {t: policy.reply_wd_for(t) for t in PROCEDURES}


@page(public=True)
def index(ctx: Ctx) -> Response:
    return ctx.render("public_index.html")


@page(public=True)
def procedures(ctx: Ctx) -> Response:
    return ctx.render("public_procedures.html", procedures=PROCEDURES,
                      statutory=_statutory(ctx), reply_days=_reply_days(ctx))


@page(public=True)
def units(ctx: Ctx) -> Response:
    return ctx.render("public_units.html", units=unit_choices(ctx.config))


@page(public=True)
def rating(ctx: Ctx) -> Response:
    """GET shows the choice (never records: mail scanners open links); POST records once."""
    token = ctx.request.path_params["token"]
    # The token is a secret: keep it out of Referer headers and caches.
    ctx.headers["Cache-Control"] = "no-store"
    state = ratings.lookup(ctx.db, token, now=ctx.now)
    chosen = ctx.request.query_params.get("muc", "")
    if ctx.request.method == "GET":
        return ctx.render("rating.html", state=state, chosen=chosen, error="", done=False,
                          status_code=200 if not state.problem else 410)
    level = ctx.field("level")
    comment = ctx.field("comment")
    try:
        ratings.submit(ctx.db, token, level, comment, now=ctx.now)
    except DossierError as exc:
        return ctx.render("rating.html", state=state, chosen=level, error=str(exc),
                          done=False, status_code=400 if not state.problem else 410)
    return ctx.render("rating.html", state=state, chosen=level, error="", done=True)
