"""LinkedIn: the 3-legged authorization code flow and OpenID Connect's `/v2/userinfo`.

Access tokens last 60 days. Refresh tokens (365 days, not extended by refreshing) exist only for
apps LinkedIn has approved for them; without one, the account must be reconnected before its
token ends, which the hourly sweep warns about. LinkedIn's standard web flow has no PKCE.
"""

from __future__ import annotations

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


class LinkedInFlow:
    provider: Provider = "linkedin"
    uses_pkce = False

    def __init__(
        self, http: httpx.AsyncClient, settings: Settings, client: ClientCredentials, clock: Clock
    ) -> None:
        self._http = http
        self._auth = settings.linkedin_auth_base.rstrip("/")
        self._api = settings.linkedin_api_base.rstrip("/")
        self._client = client
        self._clock = clock
        scopes = settings.linkedin_scopes.split()
        if settings.linkedin_organizations_enabled:
            scopes.append("w_organization_social")
        self.scopes = tuple(scopes)

    def authorization_url(
        self, *, state: str, redirect_uri: str, code_challenge: str | None
    ) -> str:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self._client.client_id,
                "redirect_uri": redirect_uri,
                "state": state,
                "scope": " ".join(self.scopes),
            },
            quote_via=quote,
        )
        return f"{self._auth}/oauth/v2/authorization?{query}"

    async def _token(self, form: dict[str, str], *, refreshing: bool) -> TokenSet:
        form = {
            **form,
            "client_id": self._client.client_id,
            "client_secret": self._client.client_secret,
        }
        request = self._http.build_request("POST", f"{self._auth}/oauth/v2/accessToken", data=form)
        body = await send_json(self._http, "linkedin", request, refreshing=refreshing)
        return token_set(body, self._clock.now(), self.scopes)

    async def exchange(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> list[ConnectedIdentity]:
        tokens = await self._token(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            refreshing=False,
        )
        request = self._http.build_request(
            "GET",
            f"{self._api}/v2/userinfo",
            headers={"Authorization": f"Bearer {tokens.access_token}"},
        )
        me = await send_json(self._http, "linkedin", request)
        sub = str(me["sub"])
        name = str(
            me.get("name")
            or " ".join(p for p in (me.get("given_name"), me.get("family_name")) if p)
            or sub
        )
        urn = f"urn:li:person:{sub}"
        return [
            ConnectedIdentity(
                platform="linkedin",
                external_id=urn,
                display_name=name,
                tokens=tokens,
                details={"author_urn": urn, "sub": sub},
            )
        ]

    async def refresh(self, refresh_token: str) -> TokenSet:
        return await self._token(
            {"grant_type": "refresh_token", "refresh_token": refresh_token}, refreshing=True
        )

    async def revoke(
        self, access_token: str, refresh_token: str | None, details: dict[str, str]
    ) -> bool:
        request = self._http.build_request(
            "POST",
            f"{self._auth}/oauth/v2/revoke",
            data={
                "token": access_token,
                "client_id": self._client.client_id,
                "client_secret": self._client.client_secret,
            },
        )
        response = await send(self._http, "linkedin", request)
        if response.status_code >= 400:
            raise platform_error("linkedin", response)
        return True
