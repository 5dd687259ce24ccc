"""The command-centre wall map at `/wall`: every grid coloured by one measure, district figures, the worst
grids, overdue cases and coverage gaps, refreshing itself for hours on a big screen on a closed network.

The page is a folium map with no tiles (the grids are the map) rendered by `render_map_html`, plus a side
panel and `api/static/wall/wall.js`, which reads the layer API (`/api/layers/...`) with the `gridmap_key`
cookie. Signing in sets that cookie (HttpOnly, SameSite=Strict): a form posting to `/wall/session`, or
the kiosk start-up URL `/wall?key=...`, which redirects to `/wall` without the key in the address.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

import jinja2
from branca.element import Element
from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from api.auth import KEY_COOKIE
from api.deps import DbSession
from api.pages.assets import offline_map, render_map_html
from api.pages.i18n import pick_language
from gis.permissions import READ_ALL
from gis.store.users import actor_for_key

router = APIRouter(tags=["pages"])

STATIC_ROUTE = "/static"
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
WALL_ROLES = READ_ALL  # admin, command_centre, planner: the roles that may read every grid's measures
COOKIE_MAX_AGE = 30 * 24 * 3600  # a kiosk restarts rarely; the key itself can be deactivated at any time
PERIOD_PATTERN = re.compile(r"^[0-9A-Za-z:._-]{1,40}$")  # 30d, 2026-10, 2026-10-01..2026-10-31
MEASURE_KEY = r"^[a-z0-9_]+$"

WALL_STRINGS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "title": "网格化管理指挥中心",
        "signin_title": "指挥中心大屏 · 登录",
        "signin_prompt": "请输入指挥中心、管理员或规划人员的访问密钥。",
        "key_label": "访问密钥",
        "signin_button": "登录",
        "empty_key": "请输入访问密钥。",
        "bad_key": "密钥无效（未知或已停用），请检查后重新输入。",
        "wrong_role": "该密钥属于“{role}”，无权查看指挥中心大屏；需要指挥中心、管理员或规划人员的密钥。",
        "expired": "登录已失效（密钥未知或已停用），请重新登录。",
        "signout": "退出",
        "switch_language": "English",
        "loading": "正在加载…",
        "connecting": "连接中…",
        "online": "在线",
        "offline": "离线",
        "server_error": "服务器错误",
        "signed_out": "登录已失效",
        "updated": "更新于",
        "replica_lag": "副本延迟 {n} 秒",
        "offline_banner": "离线：无法连接服务器，正在重试。地图显示的是 {time} 的数据。",
        "signed_out_banner": "登录已失效，即将返回登录页…",
        "period_days": "近 {n} 天",
        "rotating": "每 {n} 秒轮换",
        "figures": "全区",
        "fig_open": "在办案件",
        "fig_overdue": "超期案件",
        "fig_closure": "结案率",
        "fig_on_time": "按期结案率",
        "fig_satisfaction": "满意率",
        "worst": "重点关注网格（前 10）",
        "layers": "图层",
        "overdue_layer": "超期案件",
        "coverage_layer": "覆盖缺口",
        "no_data": "无数据",
        "worst_none": "暂无需要关注的网格",
        "persons": "{n} 人",
        "code": "编码",
        "community": "社区",
        "street": "街道",
        "branch": "网格党支部",
        "team": "服务团队",
        "leader": "团队负责人",
        "grid_workers": "网格员",
        "open_cases": "在办案件",
        "overdue": "超期案件",
        "grade": "等级",
        "grid": "网格",
        "deadline": "办理时限",
        "hours_overdue": "已超期 {h} 小时",
        "supervised": "督办",
        "escalated": "已升级",
        "unit_h": " 小时",
        "kind_uncovered": "未被网格覆盖的区域",
        "kind_overlap": "网格重叠",
        "kind_outside_building": "网格外楼栋",
        "kind_unrouted_case": "未落入网格的案件",
        # Button labels (the heading shows the API's full label).
        "short_open_cases": "在办",
        "short_overdue": "超期",
        "short_response_p50_h": "响应时长",
        "short_unvisited_share": "未走访",
        "short_org_gaps": "组织缺口",
        "short_on_time_rate": "按期结案",
        "short_satisfaction": "满意率",
        "short_grade": "等级",
        "pulse_note": "闪烁：最近超期的 {n} 件",
    },
    "en": {
        "title": "Grid command centre",
        "signin_title": "Command centre wall · sign in",
        "signin_prompt": "Enter a command-centre, admin or planner API key.",
        "key_label": "API key",
        "signin_button": "Sign in",
        "empty_key": "Enter an API key.",
        "bad_key": "That key is not valid (unknown or deactivated). Check it and try again.",
        "wrong_role": "That key belongs to a {role}, who may not view the wall; it needs a command-centre, "
                      "admin or planner key.",
        "expired": "Your sign-in is no longer valid (key unknown or deactivated). Sign in again.",
        "signout": "Sign out",
        "switch_language": "中文",
        "loading": "Loading…",
        "connecting": "Connecting…",
        "online": "Online",
        "offline": "Offline",
        "server_error": "Server error",
        "signed_out": "Signed out",
        "updated": "Updated",
        "replica_lag": "replica {n} s behind",
        "offline_banner": "Offline: cannot reach the server, retrying. The map shows data from {time}.",
        "signed_out_banner": "Signed out; returning to the sign-in page…",
        "period_days": "last {n} days",
        "rotating": "rotates every {n} s",
        "figures": "District",
        "fig_open": "Open cases",
        "fig_overdue": "Overdue",
        "fig_closure": "Closure rate",
        "fig_on_time": "On-time closure",
        "fig_satisfaction": "Satisfaction",
        "worst": "Ten worst grids",
        "layers": "Layers",
        "overdue_layer": "Overdue cases",
        "coverage_layer": "Coverage gaps",
        "no_data": "No data",
        "worst_none": "No grid stands out",
        "persons": "{n}",
        "code": "Code",
        "community": "Community",
        "street": "Street",
        "branch": "Party branch",
        "team": "Service team",
        "leader": "Team leader",
        "grid_workers": "Grid workers",
        "open_cases": "Open cases",
        "overdue": "Overdue cases",
        "grade": "Grade",
        "grid": "Grid",
        "deadline": "Deadline",
        "hours_overdue": "{h} h overdue",
        "supervised": "Supervised",
        "escalated": "Escalated",
        "unit_h": " h",
        "kind_uncovered": "Land outside every grid",
        "kind_overlap": "Grids overlapping",
        "kind_outside_building": "Building outside every grid",
        "kind_unrouted_case": "Case outside every grid",
        "short_open_cases": "Open",
        "short_overdue": "Overdue",
        "short_response_p50_h": "Response",
        "short_unvisited_share": "Unvisited",
        "short_org_gaps": "Org gaps",
        "short_on_time_rate": "On time",
        "short_satisfaction": "Satisfied",
        "short_grade": "Grade",
        "pulse_note": "pulsing: the {n} most recently overdue",
    },
}

ROLE_NAMES: dict[str, dict[str, str]] = {
    "zh-CN": {"grid_worker": "网格员", "street_officer": "街道工作人员", "open311_client": "外部接入应用"},
    "en": {"grid_worker": "grid worker", "street_officer": "street officer",
           "open311_client": "Open311 client"},
}


@dataclass(frozen=True)
class WallOptions:
    """What the address asks of the wall; everything else is fixed."""

    lang: str = "zh-CN"
    rotate: int = 60  # seconds between measures; 0 = no rotation
    poll: float = 2.0  # seconds between version polls
    period: str = "30d"
    measure: str | None = None

    def query(self, **changes: object) -> str:
        """The wall's address with these options (defaults left out), e.g. `/wall?lang=en`."""
        values = {"lang": self.lang, "rotate": self.rotate, "poll": self.poll, "period": self.period,
                  "measure": self.measure, **changes}
        defaults = {"lang": "zh-CN", "rotate": 60, "poll": 2.0, "period": "30d", "measure": None}
        params = {k: _plain(v) for k, v in values.items() if v != defaults[k]}
        return "/wall" + (f"?{urlencode(params)}" if params else "")


def _plain(value: object) -> str:
    """A query-string value: 2.0 -> "2", 0.5 -> "0.5"."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _options(lang: str | None, rotate: int, poll: float, period: str, measure: str | None) -> WallOptions:
    """Options from the query string or form; a malformed period falls back to 30 days."""
    good_measure = measure if measure and re.fullmatch(MEASURE_KEY, measure) else None
    return WallOptions(pick_language(lang), rotate, poll, period if PERIOD_PATTERN.match(period) else "30d",
                       good_measure)


# -- routes -------------------------------------------------------------------------------------------

LangQ = Annotated[str | None, Query(description="zh-CN (default) or en")]
RotateQ = Annotated[int, Query(ge=0, le=3600, description="seconds per measure; 0 stops the rotation")]
PollQ = Annotated[float, Query(ge=0.2, le=60, description="seconds between version polls")]
PeriodQ = Annotated[str, Query(max_length=40, description="period of the measures, e.g. 30d")]
MeasureQ = Annotated[str | None, Query(max_length=40, pattern=MEASURE_KEY, description="first measure")]


@router.get("/wall", response_class=HTMLResponse, summary="Command-centre wall map (signs in if needed)")
def wall(
    request: Request, session: DbSession, key: Annotated[str | None, Query(max_length=200)] = None,
    lang: LangQ = None, rotate: RotateQ = 60, poll: PollQ = 2.0, period: PeriodQ = "30d",
    measure: MeasureQ = None,
) -> Response:
    options = _options(lang, rotate, poll, period, measure)
    if key is not None:  # kiosk start-up URL: sign in, then drop the key from the address
        return _sign_in(request, session, key, options)
    cookie = request.cookies.get(KEY_COOKIE)
    if not cookie:
        return _signin_page(options, message=None, status=200)
    problem, status = _key_problem(session, cookie, options.lang, expired=True)
    if problem:
        response = _signin_page(options, message=problem, status=status)
        if status == 401:
            _clear_cookie(response)
        return response
    return _no_store(HTMLResponse(wall_html(options)))


@router.post("/wall/session", response_class=HTMLResponse, summary="Sign the wall in with an API key")
def wall_session(
    request: Request, session: DbSession, key: Annotated[str, Form(max_length=200)] = "",
    lang: Annotated[str | None, Form()] = None, rotate: Annotated[int, Form(ge=0, le=3600)] = 60,
    poll: Annotated[float, Form(ge=0.2, le=60)] = 2.0, period: Annotated[str, Form(max_length=40)] = "30d",
    measure: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    return _sign_in(request, session, key, _options(lang, rotate, poll, period, measure))


@router.get("/wall/signout", summary="Sign the wall out (clears the key cookie)", status_code=303,
            response_class=RedirectResponse, responses={303: {"description": "to the sign-in page"}})
def wall_signout(lang: Annotated[str | None, Query()] = None) -> Response:
    response = RedirectResponse(WallOptions(pick_language(lang)).query(), status_code=303)
    _clear_cookie(response)
    return _no_store(response)


def mount_static(app: FastAPI) -> None:
    """Serve gridmap's own page assets (`api/static`) under `/static`, revalidated on every load."""
    app.mount(STATIC_ROUTE, _StaticFiles(directory=STATIC_DIR), name="static")


class _StaticFiles(StaticFiles):
    """StaticFiles with `no-cache`: the browser revalidates (ETag), so a kiosk picks up a new wall.js."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = "no-cache"
        return response


# -- signing in ---------------------------------------------------------------------------------------


def _sign_in(request: Request, session: DbSession, key: str, options: WallOptions) -> Response:
    """Check the key; on success set the cookie and redirect to the wall, else the form with the reason."""
    key = key.strip()
    problem, status = _key_problem(session, key, options.lang)
    if problem:
        return _signin_page(options, message=problem, status=status)
    response = RedirectResponse(options.query(), status_code=303)
    response.set_cookie(KEY_COOKIE, key, max_age=COOKIE_MAX_AGE, path="/", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return _no_store(response)


def _key_problem(session: DbSession, key: str, lang: str, *, expired: bool = False) -> tuple[str | None, int]:
    """(message, HTTP status) when `key` may not open the wall, else (None, 200)."""
    text = WALL_STRINGS[lang]
    if not key:
        return text["empty_key"], 401
    actor = actor_for_key(session, key)
    if actor is None:
        return text["expired" if expired else "bad_key"], 401
    if actor.role not in WALL_ROLES:
        return text["wrong_role"].format(role=ROLE_NAMES[lang].get(actor.role, actor.role)), 403
    return None, 200


def _clear_cookie(response: Response) -> None:
    """Expire the key cookie (same path and flags as when it was set)."""
    response.delete_cookie(KEY_COOKIE, path="/", httponly=True, samesite="strict")


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@cache
def _templates() -> jinja2.Environment:
    """The wall's Jinja templates, autoescaped."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                              undefined=jinja2.StrictUndefined)


def _signin_page(options: WallOptions, *, message: str | None, status: int) -> Response:
    page = _templates().get_template("wall_signin.html").render(
        text=WALL_STRINGS[options.lang], lang=options.lang, message=message, options=options,
        css=static_url("wall/wall.css"), other=_other_language(options),
    )
    return _no_store(HTMLResponse(page, status_code=status))


# -- the page -----------------------------------------------------------------------------------------


@cache
def _file_hash(relative: str) -> str:
    return hashlib.sha256((STATIC_DIR / relative).read_bytes()).hexdigest()[:12]


def static_url(relative: str) -> str:
    """`/static/<relative>?v=<content hash>`, so a changed file is fetched anew."""
    return f"{STATIC_ROUTE}/{relative}?v={_file_hash(relative)}"


def wall_html(options: WallOptions) -> str:
    """The full wall page: folium map (no tiles, local Leaflet only), panel, configuration and wall.js."""
    text = WALL_STRINGS[options.lang]
    fmap = offline_map(zoom_control=False, attribution_control=False, zoom_snap=0.1, zoom_delta=0.5,
                       min_zoom=8, max_zoom=19, font_size="1rem")
    # Only Leaflet: the wall uses no jQuery, Bootstrap or icon fonts (instance-level, see assets.localize).
    fmap.default_js = [pair for pair in fmap.default_js if pair[0] == "leaflet"]
    fmap.default_css = [pair for pair in fmap.default_css if pair[0] == "leaflet_css"]
    config = {
        "map": fmap.get_name(),
        "lang": options.lang,
        "rotate_ms": options.rotate * 1000,
        "poll_ms": round(options.poll * 1000),
        "period": options.period,
        "measure": options.measure,
        "signin_url": options.query(),
        "strings": text,
    }
    panel = _templates().get_template("wall_panel.html").render(
        text=text, lang=options.lang, config=_script_json(config),
        other=_other_language(options),
        signout=f"/wall/signout?lang={options.lang}",
    )
    root = fmap.get_root()
    root.html.add_child(_Raw(panel))
    page = render_map_html(fmap)
    head = f'<head><meta charset="utf-8"><title>{html.escape(text["title"])}</title>'
    # After Leaflet's stylesheet, so the wall's rules win ties.
    own = (f'<link rel="stylesheet" href="{static_url("wall/wall.css")}">'
           f'<script src="{static_url("wall/wall.js")}"></script></head>')
    page = page.replace("<head>", head, 1).replace("</head>", own, 1)
    page = page.replace("<html>", f'<html lang="{options.lang}">', 1)
    return page.replace("<body>", '<body class="wall">', 1)


def _other_language(options: WallOptions) -> str:
    """The same wall in the other language (the toggle's link)."""
    return options.query(lang="en" if options.lang == "zh-CN" else "zh-CN")


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element (no `</script>` or `<!--` can close it)."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


class _Raw(Element):
    """A figure child that renders fixed HTML (a plain Element would run it through Jinja again)."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self._name = "WallPanel"
        self.markup = markup

    def render(self, **kwargs: object) -> str:
        return self.markup
