"""Threads by Meta: its own Authorization Window and token endpoints, not Facebook Login's.

    code  --POST /oauth/access_token-->        short-lived token (1 hour) and the user id
          --GET /access_token th_exchange_token--> long-lived token (60 days)
          --GET /refresh_access_token th_refresh_token--> the same, 60 days from the refresh

https://developers.facebook.com/documentation/threads/get-started/get-access-tokens-and-permissions
https://developers.facebook.com/docs/threads/get-started/long-lived-tokens/

A long-lived token is refreshed by presenting the token itself (no separate refresh token), once
it is at least 24 hours old and before it ends; one not refreshed within its 60 days is gone for
good. So the account stores the long-lived token as its refresh token too, and the hourly sweep
(`herald.tokens`) refreshes it during its last day like any other refreshable token. Codes last an
hour and work once. The Authorization Window documents no PKCE, and Threads documents no way to
revoke a user's grant from the app's side: a person removes the app in Threads' settings.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote, urlencode

import httpx

from herald.clock import Clock
from herald.oauth.flows import (
    ClientCredentials,
    ConnectedIdentity,
    Provider,
    TokenSet,
    send_json,
    token_set,
)
from herald.settings import Settings


class ThreadsFlow:
    provider: Provider = "threads"
    uses_pkce = False

    def __init__(
        self, http: httpx.AsyncClient, settings: Settings, client: ClientCredentials, clock: Clock
    ) -> None:
        self._http = http
        self._auth = settings.threads_auth_base.rstrip("/")
        self._graph = settings.threads_graph_base.rstrip("/")
        self._api = f"{self._graph}/{settings.threads_graph_version}"
        self._client = client
        self._clock = clock
        self.scopes = tuple(s for s in settings.threads_scopes.replace(",", " ").split() if s)

    def authorization_url(
        self, *, state: str, redirect_uri: str, code_challenge: str | None
    ) -> str:
        query = urlencode(
            {
                "client_id": self._client.client_id,
                "redirect_uri": redirect_uri,
                "scope": ",".join(self.scopes),
                "response_type": "code",
                "state": state,
            },
            quote_via=quote,
        )
        return f"{self._auth}/oauth/authorize?{query}"

    async def exchange(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> list[ConnectedIdentity]:
        request = self._http.build_request(
            "POST",
            f"{self._graph}/oauth/access_token",
            data={
                "client_id": self._client.client_id,
                "client_secret": self._client.client_secret,
                "grant_type": "authorization_code",
                "redirect_uri": redirect_uri,
                "code": code,
            },
        )
        short = await send_json(self._http, "threads", request)
        # The long-lived token is the one kept: the short one ends within the hour.
        long = await self._long_lived(
            "access_token",
            {
                "grant_type": "th_exchange_token",
                "client_secret": self._client.client_secret,
                "access_token": str(short["access_token"]),
            },
            refreshing=False,
        )
        me = await send_json(
            self._http,
            "threads",
            self._http.build_request(
                "GET",
                f"{self._api}/me",
                params={"fields": "id,username,name"},
                headers={"Authorization": f"Bearer {long.access_token}"},
            ),
        )
        user_id = str(me["id"])
        if short.get("user_id") is not None and str(short["user_id"]) != user_id:
            raise ValueError("the token's user is not the one who authorized")
        username = str(me.get("username") or "")
        return [
            ConnectedIdentity(
                platform="threads",
                external_id=user_id,
                display_name=f"@{username}" if username else str(me.get("name") or user_id),
                tokens=long,
                details={"user_id": user_id, "username": username},
            )
        ]

    async def _long_lived(self, path: str, params: dict[str, str], *, refreshing: bool) -> TokenSet:
        # Both endpoints are documented as GETs with the token in the query, and unversioned.
        request = self._http.build_request("GET", f"{self._graph}/{path}", params=params)
        body = await send_json(self._http, "threads", request, refreshing=refreshing)
        tokens = token_set(body, self._clock.now(), self.scopes)
        # The token refreshes itself, and only while it lives.
        return replace(
            tokens, refresh_token=tokens.access_token, refresh_expires_at=tokens.expires_at
        )

    async def refresh(self, refresh_token: str) -> TokenSet:
        return await self._long_lived(
            "refresh_access_token",
            {"grant_type": "th_refresh_token", "access_token": refresh_token},
            refreshing=True,
        )

    async def revoke(
        self, access_token: str, refresh_token: str | None, details: dict[str, str]
    ) -> bool:
        return False
