"""X: OAuth 2.0 authorization code with PKCE (S256), as a confidential client.

The client id and secret go as HTTP Basic on the token and revoke endpoints. A code must be
exchanged within about 30 seconds; access tokens last 2 hours; with `offline.access` a refresh
token comes too, and it is single-use: each refresh returns a new one and spends the old, and
presenting a spent one can end the whole grant. Hence the per-account lock in `herald.tokens`.
"""

from __future__ import annotations

import base64
from urllib.parse import quote, urlencode

import httpx

from herald.clock import Clock
from herald.oauth.flows import (
    ClientCredentials,
    ConnectedIdentity,
    Provider,
    TokenSet,
    platform_error,
    send,
    send_json,
    token_set,
)
from herald.settings import Settings


class XFlow:
    provider: Provider = "x"
    uses_pkce = True

    def __init__(
        self, http: httpx.AsyncClient, settings: Settings, client: ClientCredentials, clock: Clock
    ) -> None:
        self._http = http
        self._auth = settings.x_auth_base.rstrip("/")
        self._api = settings.x_api_base.rstrip("/")
        self._client = client
        self._clock = clock
        self.scopes = tuple(settings.x_scopes.split())

    @property
    def _basic(self) -> dict[str, str]:
        pair = f"{self._client.client_id}:{self._client.client_secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}

    def authorization_url(
        self, *, state: str, redirect_uri: str, code_challenge: str | None
    ) -> str:
        if code_challenge is None:
            raise ValueError("X requires PKCE")
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self._client.client_id,
                "redirect_uri": redirect_uri,
                "scope": " ".join(self.scopes),
                "state": state,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            },
            quote_via=quote,
        )
        return f"{self._auth}/i/oauth2/authorize?{query}"

    async def _token(self, form: dict[str, str], *, refreshing: bool) -> TokenSet:
        request = self._http.build_request(
            "POST", f"{self._api}/2/oauth2/token", data=form, headers=self._basic
        )
        body = await send_json(self._http, "x", request, refreshing=refreshing)
        return token_set(body, self._clock.now(), self.scopes)

    async def exchange(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> list[ConnectedIdentity]:
        if code_verifier is None:
            raise ValueError("X requires PKCE")
        tokens = await self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            },
            refreshing=False,
        )
        request = self._http.build_request(
            "GET",
            f"{self._api}/2/users/me",
            headers={"Authorization": f"Bearer {tokens.access_token}"},
        )
        me = (await send_json(self._http, "x", request))["data"]
        return [
            ConnectedIdentity(
                platform="x",
                external_id=str(me["id"]),
                display_name=str(me.get("name") or me.get("username") or me["id"]),
                tokens=tokens,
                details={"user_id": str(me["id"]), "username": str(me.get("username", ""))},
            )
        ]

    async def refresh(self, refresh_token: str) -> TokenSet:
        return await self._token(
            {"grant_type": "refresh_token", "refresh_token": refresh_token}, refreshing=True
        )

    async def revoke(
        self, access_token: str, refresh_token: str | None, details: dict[str, str]
    ) -> bool:
        # The refresh token first: revoking only the access token would leave the grant alive.
        pairs = [(refresh_token, "refresh_token"), (access_token, "access_token")]
        for token, hint in pairs:
            if not token:
                continue
            request = self._http.build_request(
                "POST",
                f"{self._api}/2/oauth2/revoke",
                data={"token": token, "token_type_hint": hint},
                headers=self._basic,
            )
            response = await send(self._http, "x", request)
            if response.status_code >= 400:
                raise platform_error("x", response)
        return True
