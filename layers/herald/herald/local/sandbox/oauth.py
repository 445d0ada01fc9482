"""The sandbox's OAuth endpoints, on the paths LinkedIn, X and Meta use.

Authorize endpoints approve at once and redirect to `redirect_uri` with `code` and `state`, so a
test (or a browser under `make dev`) simply follows the redirect. The token endpoints check what
the real ones check and answer with the real error shapes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from starlette.convertors import Convertor, register_url_convertor
from starlette.responses import JSONResponse, RedirectResponse, Response

from herald.local.sandbox.state import (
    LINKEDIN_ACCESS_SECONDS,
    LINKEDIN_CODE_SECONDS,
    LINKEDIN_REFRESH_SECONDS,
    META_CODE_SECONDS,
    META_LONG_SECONDS,
    META_SHORT_SECONDS,
    X_ACCESS_SECONDS,
    X_CODE_SECONDS,
    Client,
    Grant,
    SandboxPlatform,
    SandboxState,
    Token,
)


class GraphVersion(Convertor[str]):
    # Only "v24.0"-shaped segments are Graph versions, so LinkedIn's /v2/... never lands here.
    regex = r"v[0-9]+\.[0-9]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("graphver", GraphVersion())

router = APIRouter()


def _state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _graph_error(
    message: str, code: int, subcode: int | None = None, status: int = 400
) -> JSONResponse:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = secrets.token_urlsafe(8)
    return JSONResponse({"error": error}, status_code=status)


async def _form(request: Request) -> dict[str, str]:
    # Token endpoints take application/x-www-form-urlencoded bodies (no multipart here).
    return dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and value:
        return value.strip()
    return request.query_params.get("access_token")


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(value).decode().partition(":")
    except ValueError:
        return None
    return client_id, secret


def _challenge_ok(grant: Grant, verifier: str | None) -> bool:
    if grant.code_challenge is None:
        return True
    if not verifier:
        return False
    if grant.code_challenge_method == "plain":
        return hmac.compare_digest(verifier, grant.code_challenge)
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return hmac.compare_digest(digest.decode(), grant.code_challenge)


def _authorize(
    request: Request, platform: SandboxPlatform, code_seconds: int, *, pkce_required: bool
) -> Response:
    state = _state(request)
    q = request.query_params
    state.calls[f"{platform}.authorize"] += 1
    client = state.client(platform, q.get("client_id", ""))
    if client is None:
        return _oauth_error(400, "invalid_client", "unknown client_id")
    redirect_uri = q.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        return _oauth_error(
            400, "invalid_request", "redirect_uri does not match a registered value"
        )
    if platform != "meta" and q.get("response_type") != "code":
        return _oauth_error(400, "unsupported_response_type", "response_type must be code")
    challenge = q.get("code_challenge")
    if pkce_required and not challenge:
        return _oauth_error(400, "invalid_request", "code_challenge is required")
    scopes = tuple(s for s in q.get("scope", "").replace(",", " ").split() if s)
    code = state.issue_code(
        Grant(
            platform=platform,
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            user_id=state.users[platform].user_id,
            expires_at=state.now() + code_seconds,
            code_challenge=challenge,
            code_challenge_method=q.get("code_challenge_method", "plain") if challenge else None,
        )
    )
    sep = "&" if "?" in redirect_uri else "?"
    target = f"{redirect_uri}{sep}{urlencode({'code': code, 'state': q.get('state', '')})}"
    return RedirectResponse(target, status_code=302)


# --- LinkedIn ---------------------------------------------------------------------------------
@router.get("/oauth/v2/authorization")
async def linkedin_authorize(request: Request) -> Response:
    return _authorize(request, "linkedin", LINKEDIN_CODE_SECONDS, pkce_required=False)


def _linkedin_client(state: SandboxState, form: Any) -> Client | None:
    client = state.client("linkedin", str(form.get("client_id", "")))
    if client is None or not hmac.compare_digest(
        client.client_secret, str(form.get("client_secret", ""))
    ):
        return None
    return client


@router.post("/oauth/v2/accessToken")
async def linkedin_token(request: Request) -> Response:
    state = _state(request)
    form = await _form(request)
    state.calls["linkedin.token"] += 1
    client = _linkedin_client(state, form)
    if client is None:
        return _oauth_error(401, "invalid_client", "Client authentication failed")
    if form.get("grant_type") == "refresh_token":
        old = state.refresh_tokens.get(str(form.get("refresh_token", "")))
        if old is None or old.platform != "linkedin" or (old.expires_at or 0) <= state.now():
            return _oauth_error(
                400, "invalid_grant", "The provided refresh token is invalid, expired or revoked"
            )
        access = state.issue_token(
            Token(
                "linkedin",
                client.client_id,
                old.user_id,
                old.scopes,
                state.now() + LINKEDIN_ACCESS_SECONDS,
                grant=old.grant,
            ),
            "li_at_",
        )
        # LinkedIn keeps the refresh token and its original end: refreshing never extends it.
        return JSONResponse(
            {
                "access_token": access,
                "expires_in": LINKEDIN_ACCESS_SECONDS,
                "refresh_token": form.get("refresh_token"),
                "refresh_token_expires_in": int((old.expires_at or 0) - state.now()),
                "scope": ",".join(old.scopes),
            }
        )
    if form.get("grant_type") != "authorization_code":
        return _oauth_error(400, "unsupported_grant_type", "grant_type is not supported")
    grant = state.take_code(str(form.get("code", "")))
    if (
        grant is None
        or grant.platform != "linkedin"
        or grant.client_id != client.client_id
        or grant.redirect_uri != form.get("redirect_uri")
        or grant.expires_at <= state.now()
        or not _challenge_ok(grant, form.get("code_verifier"))
    ):
        return _oauth_error(
            400,
            "invalid_request",
            "Unable to retrieve access token: appid/redirect uri/code verifier does not match "
            "authorization code. Or authorization code expired.",
        )
    grant_id = secrets.token_hex(8)
    access = state.issue_token(
        Token(
            "linkedin",
            client.client_id,
            grant.user_id,
            grant.scopes,
            state.now() + LINKEDIN_ACCESS_SECONDS,
            grant=grant_id,
        ),
        "li_at_",
    )
    body: dict[str, Any] = {
        "access_token": access,
        "expires_in": LINKEDIN_ACCESS_SECONDS,
        "scope": ",".join(grant.scopes),
        "token_type": "Bearer",
    }
    if state.linkedin_refresh_tokens:
        body["refresh_token"] = state.issue_token(
            Token(
                "linkedin",
                client.client_id,
                grant.user_id,
                grant.scopes,
                state.now() + LINKEDIN_REFRESH_SECONDS,
                kind="refresh",
                grant=grant_id,
            ),
            "li_rt_",
        )
        body["refresh_token_expires_in"] = LINKEDIN_REFRESH_SECONDS
    return JSONResponse(body)


@router.get("/v2/userinfo")
async def linkedin_userinfo(request: Request) -> Response:
    state = _state(request)
    state.calls["linkedin.userinfo"] += 1
    token = state.token_owner("linkedin", _bearer(request) or "")
    if token is None:
        return JSONResponse(
            {"serviceErrorCode": 65600, "message": "Invalid access token", "status": 401},
            status_code=401,
        )
    user = state.users["linkedin"]
    given, _, family = user.name.partition(" ")
    return JSONResponse(
        {
            "sub": user.user_id,
            "name": user.name,
            "given_name": given,
            "family_name": family,
            "locale": {"country": "US", "language": "en"},
        }
    )


@router.post("/oauth/v2/revoke")
async def linkedin_revoke(request: Request) -> Response:
    state = _state(request)
    form = await _form(request)
    state.calls["linkedin.revoke"] += 1
    if _linkedin_client(state, form) is None:
        return _oauth_error(401, "invalid_client", "Client authentication failed")
    token = state.tokens.get(str(form.get("token", "")))
    if token is not None:
        state.revoke_grant(token.grant)
    return Response(status_code=200)


# --- X ----------------------------------------------------------------------------------------
@router.get("/i/oauth2/authorize")
async def x_authorize(request: Request) -> Response:
    return _authorize(request, "x", X_CODE_SECONDS, pkce_required=True)


def _x_client(state: SandboxState, request: Request) -> Client | None:
    basic = _basic(request)
    if basic is None:
        return None
    client = state.client("x", basic[0])
    if client is None or not hmac.compare_digest(client.client_secret, basic[1]):
        return None
    return client


def _x_tokens(
    state: SandboxState, client: Client, user_id: str, scopes: tuple[str, ...], grant_id: str
) -> JSONResponse:
    access = state.issue_token(
        Token(
            "x", client.client_id, user_id, scopes, state.now() + X_ACCESS_SECONDS, grant=grant_id
        ),
        "x_at_",
    )
    body: dict[str, Any] = {
        "token_type": "bearer",
        "expires_in": X_ACCESS_SECONDS,
        "access_token": access,
        "scope": " ".join(scopes),
    }
    if "offline.access" in scopes:
        body["refresh_token"] = state.issue_token(
            Token("x", client.client_id, user_id, scopes, None, kind="refresh", grant=grant_id),
            "x_rt_",
        )
    return JSONResponse(body)


@router.post("/2/oauth2/token")
async def x_token(request: Request) -> Response:
    state = _state(request)
    form = await _form(request)
    state.calls["x.token"] += 1
    client = _x_client(state, request)
    if client is None:
        return _oauth_error(401, "unauthorized_client", "Missing valid authorization header")
    if form.get("grant_type") == "refresh_token":
        value = str(form.get("refresh_token", ""))
        old = state.refresh_tokens.pop(value, None)
        if old is None or old.platform != "x":
            spent_grant = state.spent_refresh_tokens.get(value)
            if spent_grant is not None:
                # A spent refresh token presented again: X ends the whole grant.
                state.revoke_grant(spent_grant)
            return _oauth_error(400, "invalid_request", "Value passed for the token was invalid.")
        state.spent_refresh_tokens[value] = old.grant
        state.calls["x.refresh"] += 1
        return _x_tokens(state, client, old.user_id, old.scopes, old.grant)
    if form.get("grant_type") != "authorization_code":
        return _oauth_error(400, "invalid_request", "Missing required parameter [grant_type].")
    grant = state.take_code(str(form.get("code", "")))
    if (
        grant is None
        or grant.platform != "x"
        or grant.client_id != client.client_id
        or grant.redirect_uri != form.get("redirect_uri")
        or grant.expires_at <= state.now()
        or not _challenge_ok(grant, form.get("code_verifier"))
    ):
        return _oauth_error(
            400, "invalid_request", "Value passed for the authorization code was invalid."
        )
    return _x_tokens(state, client, grant.user_id, grant.scopes, secrets.token_hex(8))


@router.post("/2/oauth2/revoke")
async def x_revoke(request: Request) -> Response:
    state = _state(request)
    form = await _form(request)
    state.calls["x.revoke"] += 1
    if _x_client(state, request) is None:
        return _oauth_error(401, "unauthorized_client", "Missing valid authorization header")
    value = str(form.get("token", ""))
    token = state.tokens.pop(value, None) or state.refresh_tokens.pop(value, None)
    if token is not None and form.get("token_type_hint") == "refresh_token":
        state.revoke_grant(token.grant)
    return JSONResponse({"revoked": True})


@router.get("/2/users/me")
async def x_me(request: Request) -> Response:
    state = _state(request)
    state.calls["x.me"] += 1
    if state.token_owner("x", _bearer(request) or "") is None:
        return JSONResponse(
            {
                "title": "Unauthorized",
                "type": "about:blank",
                "status": 401,
                "detail": "Unauthorized",
            },
            status_code=401,
        )
    user = state.users["x"]
    return JSONResponse(
        {"data": {"id": user.user_id, "name": user.name, "username": user.username}}
    )


# --- Meta -------------------------------------------------------------------------------------
@router.get("/{version:graphver}/dialog/oauth")
async def meta_dialog(request: Request, version: str) -> Response:
    return _authorize(request, "meta", META_CODE_SECONDS, pkce_required=False)


def _meta_client(state: SandboxState, params: Any) -> Client | str:
    client = state.client("meta", str(params.get("client_id", "")))
    if client is None:
        return "Error validating application. Invalid application ID."
    if not hmac.compare_digest(client.client_secret, str(params.get("client_secret", ""))):
        return "Error validating client secret."
    return client


@router.get("/{version:graphver}/oauth/access_token")
async def meta_access_token(request: Request, version: str) -> Response:
    state = _state(request)
    q = request.query_params
    client = _meta_client(state, q)
    if isinstance(client, str):
        state.calls["meta.access_token"] += 1
        return _graph_error(client, 1 if "secret" in client else 101)
    if q.get("grant_type") == "fb_exchange_token":
        state.calls["meta.exchange"] += 1
        short = state.token_owner("meta", q.get("fb_exchange_token", ""))
        if short is None or short.kind != "user":
            return _graph_error("Invalid OAuth access token - Cannot parse access token", 190)
        long = state.issue_token(
            Token(
                "meta",
                client.client_id,
                short.user_id,
                short.scopes,
                state.now() + META_LONG_SECONDS,
                long_lived=True,
                grant=short.grant,
            ),
            "EAAL",
        )
        return JSONResponse(
            {"access_token": long, "token_type": "bearer", "expires_in": META_LONG_SECONDS}
        )
    state.calls["meta.access_token"] += 1
    code = q.get("code", "")
    grant = state.take_code(code)
    if grant is None or grant.platform != "meta" or grant.client_id != client.client_id:
        return _graph_error("This authorization code has been used.", 100, 36009)
    if grant.expires_at <= state.now():
        return _graph_error("This authorization code has expired.", 100, 36007)
    if grant.redirect_uri != q.get("redirect_uri"):
        return _graph_error(
            "Error validating verification code. Please make sure your redirect_uri is identical "
            "to the one you used in the OAuth dialog request",
            100,
            36008,
        )
    if not _challenge_ok(grant, q.get("code_verifier")):
        return _graph_error("Invalid code verifier.", 100)
    short_token = state.issue_token(
        Token(
            "meta",
            client.client_id,
            grant.user_id,
            grant.scopes,
            state.now() + META_SHORT_SECONDS,
            grant=secrets.token_hex(8),
        ),
        "EAAS",
    )
    return JSONResponse(
        {"access_token": short_token, "token_type": "bearer", "expires_in": META_SHORT_SECONDS}
    )


def _meta_token(request: Request) -> Token | JSONResponse:
    state = _state(request)
    value = _bearer(request) or ""
    token = state.token_owner("meta", value)
    if token is None:
        return _graph_error("Invalid OAuth access token - Cannot parse access token", 190)
    proof = request.query_params.get("appsecret_proof")
    if proof is not None:
        client = state.client("meta", token.client_id)
        secret = client.client_secret.encode() if client else b""
        expected = hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(proof, expected):
            return _graph_error("Invalid appsecret_proof provided in the API argument", 100)
    return token


@router.get("/{version:graphver}/me")
async def meta_me(request: Request, version: str) -> Response:
    state = _state(request)
    state.calls["meta.me"] += 1
    token = _meta_token(request)
    if isinstance(token, JSONResponse):
        return token
    if token.kind == "page" and token.page_id:
        page = next(p for p in state.pages if p.page_id == token.page_id)
        return JSONResponse({"id": page.page_id, "name": page.name})
    return JSONResponse({"id": token.user_id, "name": state.users["meta"].name})


@router.get("/{version:graphver}/me/accounts")
async def meta_accounts(request: Request, version: str) -> Response:
    state = _state(request)
    state.calls["meta.accounts"] += 1
    token = _meta_token(request)
    if isinstance(token, JSONResponse):
        return token
    if token.kind != "user":
        return _graph_error("(#100) Tried accessing nonexisting field (accounts)", 100)
    with_ig = "instagram_business_account" in request.query_params.get("fields", "")
    data = []
    for page in state.pages:
        # Page tokens from a long-lived user token do not expire; from a short one they do.
        expires = None if token.long_lived else token.expires_at
        page_token = state.issue_token(
            Token(
                "meta",
                token.client_id,
                token.user_id,
                token.scopes,
                expires,
                kind="page",
                page_id=page.page_id,
                grant=token.grant,
            ),
            "EAAP",
        )
        entry: dict[str, Any] = {
            "id": page.page_id,
            "name": page.name,
            "access_token": page_token,
            "category": "Bakery",
            "tasks": list(page.tasks),
        }
        if with_ig and page.instagram_id:
            entry["instagram_business_account"] = {
                "id": page.instagram_id,
                "username": page.instagram_username,
            }
        data.append(entry)
    return JSONResponse(
        {"data": data, "paging": {"cursors": {"before": "MAZDZD", "after": "MQZDZD"}}}
    )


@router.delete("/{version:graphver}/me/permissions")
async def meta_revoke_me(request: Request, version: str) -> Response:
    state = _state(request)
    state.calls["meta.revoke"] += 1
    token = _meta_token(request)
    if isinstance(token, JSONResponse):
        return token
    state.revoke_user("meta", token.user_id)
    return JSONResponse({"success": True})


@router.delete("/{version:graphver}/{user_id}/permissions")
async def meta_revoke_user(request: Request, version: str, user_id: str) -> Response:
    state = _state(request)
    state.calls["meta.revoke"] += 1
    value = _bearer(request) or ""
    app_id, sep, app_secret = value.partition("|")
    client = state.client("meta", app_id) if sep else None
    if client is None or not hmac.compare_digest(client.client_secret, app_secret):
        token = _meta_token(request)
        if isinstance(token, JSONResponse):
            return token
        if token.user_id != user_id:
            return _graph_error("(#200) Permissions error", 200, status=403)
    state.revoke_user("meta", user_id)
    return JSONResponse({"success": True})


@router.get("/{version:graphver}/{node_id}")
async def meta_node(request: Request, version: str, node_id: str) -> Response:
    state = _state(request)
    state.calls["meta.node"] += 1
    token = _meta_token(request)
    if isinstance(token, JSONResponse):
        return token
    page = next((p for p in state.pages if p.page_id == node_id), None)
    if page is not None:
        body: dict[str, Any] = {"id": page.page_id, "name": page.name}
        if (
            "instagram_business_account" in request.query_params.get("fields", "")
            and page.instagram_id
        ):
            body["instagram_business_account"] = {"id": page.instagram_id}
        return JSONResponse(body)
    if node_id in state.posts:
        return JSONResponse({"id": node_id, **state.posts[node_id]})
    return _graph_error(
        f"Unsupported get request. Object with ID '{node_id}' does not exist", 100, 33
    )
