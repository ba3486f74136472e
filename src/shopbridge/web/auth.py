"""Operator authentication: Bearer API tokens, token-backed signed session cookies, CSRF.

Every path needs an operator except `/health`, the login page, the webhooks and the agent API
(which check their connection's own secret or agent token). A session cookie holds the hash of
the token that logged in, so revoking the token ends the session; it also holds the session's CSRF token, which every
POST made with the cookie must repeat in the `X-CSRF-Token` header or a `csrf_token` field.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.templating import Jinja2Templates

from shopbridge.store import Store
from shopbridge.store.tokens import token_hash

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
SESSION_COOKIE = "shopbridge_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
LOGIN_FORM_COOKIE = "shopbridge_login_form"
LOGIN_FORM_PURPOSE = "login-form:"
LOGIN_FORM_SECONDS = 3600
SESSION_SECONDS = 12 * 3600
OPEN_PATHS = ("/health", "/login")
WEBHOOK_PREFIX = "/webhooks/"
# The on-premises agent's API checks the connection's own agent token (web/agent_api.py).
AGENT_PREFIX = "/api/agent/"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Operator:
    """Who is calling: the token's name, and the CSRF token when they came by session cookie."""

    name: str
    csrf: str | None = None


class SessionSigner:
    """Signs and reads session cookies with a key derived from the store's secret key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def issue(self, token: str) -> tuple[str, str]:
        """A cookie value for a logged-in token and the session's CSRF token."""
        csrf = secrets.token_urlsafe(24)
        body = {"h": token_hash(token), "c": csrf, "e": int(time.time()) + SESSION_SECONDS}
        payload = base64.urlsafe_b64encode(json.dumps(body).encode()).decode()
        return f"{payload}.{self._sign(payload)}", csrf

    def read(self, cookie: str) -> tuple[str, str] | None:
        """(token hash, CSRF token) of a cookie signed by us and not expired, else None."""
        payload, _, signature = cookie.partition(".")
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            body = json.loads(base64.urlsafe_b64decode(payload))
            expired = int(body["e"]) < time.time()
            return None if expired else (str(body["h"]), str(body["c"]))
        except (ValueError, KeyError, TypeError):
            return None

    def login_form_token(self) -> str:
        """A token for one login form: sent as a cookie and repeated in the form, signed, short-lived."""
        payload = f"{secrets.token_urlsafe(18)}.{int(time.time()) + LOGIN_FORM_SECONDS}"
        return f"{payload}.{self._sign(LOGIN_FORM_PURPOSE + payload)}"

    def login_form_token_ok(self, cookie: str, field: str) -> bool:
        """The form repeats the cookie, which we signed and which has not expired."""
        if not cookie or not hmac.compare_digest(cookie.encode(), field.encode()):
            return False
        payload, _, signature = cookie.rpartition(".")
        expiry = payload.rpartition(".")[2]
        good = hmac.compare_digest(signature, self._sign(LOGIN_FORM_PURPOSE + payload))
        return good and expiry.isdigit() and int(expiry) >= time.time()

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def identify(request: Request, store: Store, signer: SessionSigner) -> Operator | None:
    """The operator behind a Bearer token or a session cookie, or None."""
    token = bearer_token(request)
    if token is not None:
        name = store.tokens.verify(token)
        return Operator(name) if name else None
    session = signer.read(request.cookies.get(SESSION_COOKIE, ""))
    if session is None:
        return None
    name = store.tokens.name_for_hash(session[0])
    return Operator(name, csrf=session[1]) if name else None


async def csrf_ok(request: Request, operator: Operator) -> bool:
    """A cookie-borne unsafe request must repeat the session's CSRF token; Bearer ones need not."""
    if operator.csrf is None or request.method in SAFE_METHODS:
        return True
    sent = request.headers.get(CSRF_HEADER) or await _form_field(request, CSRF_FIELD)
    return bool(sent) and hmac.compare_digest(sent, operator.csrf)


async def form_fields(request: Request) -> dict[str, str]:
    """An urlencoded form body (the only kind our forms send)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    parsed = parse_qs((await request.body()).decode("utf-8", "replace"))
    return {key: values[0] for key, values in parsed.items()}


async def _form_field(request: Request, name: str) -> str:
    return (await form_fields(request)).get(name, "")


def needs_operator(path: str) -> bool:
    return path not in OPEN_PATHS and not path.startswith((WEBHOOK_PREFIX, AGENT_PREFIX))


def refuse(request: Request, message: str, signer: SessionSigner) -> Response:
    """401: JSON for the API, the login form for pages (so a browser can log in right there)."""
    if request.url.path.startswith("/api/") or request.method not in SAFE_METHODS:
        return JSONResponse({"detail": message}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
    return login_page(request, message, signer, status_code=401)


def login_page(request: Request, message: str, signer: SessionSigner, status_code: int = 200) -> Response:
    """The login form with a fresh form token, in the form and in a cookie only this site sends:
    a login posted from another site (logging the operator in as someone else) lacks one of them.
    A valid token already in the cookie is kept, so pages loaded side by side (tabs, the favicon's
    401) do not outdate each other's forms."""
    form_token = request.cookies.get(LOGIN_FORM_COOKIE, "")
    if not signer.login_form_token_ok(form_token, form_token):
        form_token = signer.login_form_token()
    context = {"message": message, "next": request.url.path, "form_token": form_token}
    response = TEMPLATES.TemplateResponse(request, "login.html", context, status_code=status_code)
    response.set_cookie(LOGIN_FORM_COOKIE, form_token, max_age=LOGIN_FORM_SECONDS, path="/", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")  # fmt: skip
    return response


def login_form_ok(request: Request, fields: dict[str, str], signer: SessionSigner) -> bool:
    return signer.login_form_token_ok(request.cookies.get(LOGIN_FORM_COOKIE, ""), fields.get(CSRF_FIELD, ""))


def set_session_cookie(response: Response, request: Request, cookie: str) -> None:
    """HttpOnly and SameSite=Strict always; Secure whenever the page was served over HTTPS."""
    secure = request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE, cookie, max_age=SESSION_SECONDS, path="/", httponly=True, samesite="strict", secure=secure
    )


def page_context(request: Request) -> dict[str, str]:
    """What every operator page needs for its forms: the session's CSRF token."""
    operator: Operator | None = getattr(request.state, "operator", None)
    return {"csrf_token": operator.csrf or "" if operator else ""}


def install(app: FastAPI, store: Store) -> SessionSigner:
    """Guard every path that needs an operator; returns the signer the login page uses."""
    signer = SessionSigner(store.secrets.derive("web-session"))

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Handler) -> Response:
        if not needs_operator(request.url.path):
            return await call_next(request)
        operator = identify(request, store, signer)
        if operator is None:
            return refuse(request, "log in, or send Authorization: Bearer <token>", signer)
        if not await csrf_ok(request, operator):
            return JSONResponse({"detail": "missing or wrong CSRF token"}, status_code=403)
        request.state.operator = operator
        return await call_next(request)

    return signer
