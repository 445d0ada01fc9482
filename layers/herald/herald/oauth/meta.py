"""Meta: Facebook Login, then every Page the person manages and each Page's Instagram account.

    code  --/oauth/access_token-->  short-lived user token (about 2 hours)
          --fb_exchange_token-->    long-lived user token (about 60 days)
          --/me/accounts-->         each Page with its Page token, which does not expire when
                                    fetched with a long-lived user token
          instagram_business_account on each Page: the Instagram account published through it

Each Page and each Instagram account becomes its own connected account. A Page posts with its
Page token. An Instagram account publishes with the person's long-lived User token: the IG User
Media and Media Publish references list "Access Tokens: User", with the condition that "the app
user whose token is used in the request must be able to perform MANAGE or CREATE_CONTENT tasks
on the Page connected to the targeted Instagram account"
(https://developers.facebook.com/docs/instagram-api/reference/ig-user/media). That token lasts
about 60 days and cannot be refreshed, so the hourly sweep flags the account `expiring` and then
`needs_reauth` in time (herald.tokens), where a Page token would never end but is not what the
Instagram publishing endpoints document.
Graph calls carry `appsecret_proof`, which apps can make Meta require for every server call.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
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
from herald.platforms.base import ErrorKind, PlatformError
from herald.settings import Settings

_PAGE_FIELDS = "id,name,access_token,tasks,instagram_business_account{id,username,name}"
_MAX_PAGES = 10  # of /me/accounts results: 1,000 Pages is beyond any business here


class MetaFlow:
    provider: Provider = "meta"
    uses_pkce = False  # Facebook Login's PKCE is its OIDC flow, which does not grant Pages

    def __init__(
        self, http: httpx.AsyncClient, settings: Settings, client: ClientCredentials, clock: Clock
    ) -> None:
        self._http = http
        version = settings.meta_graph_version
        self._dialog = f"{settings.meta_dialog_base.rstrip('/')}/{version}"
        self._graph = f"{settings.meta_graph_base.rstrip('/')}/{version}"
        self._client = client
        self._clock = clock
        self.scopes = tuple(s for s in settings.meta_scopes.split(",") if s)

    def authorization_url(
        self, *, state: str, redirect_uri: str, code_challenge: str | None
    ) -> str:
        query = urlencode(
            {
                "client_id": self._client.client_id,
                "redirect_uri": redirect_uri,
                "state": state,
                "response_type": "code",
                "scope": ",".join(self.scopes),
            },
            quote_via=quote,
        )
        return f"{self._dialog}/dialog/oauth?{query}"

    def _proof(self, token: str) -> str:
        secret = self._client.client_secret.encode()
        return hmac.new(secret, token.encode(), hashlib.sha256).hexdigest()

    async def _get(self, url: str, token: str, params: dict[str, str]) -> dict[str, Any]:
        request = self._http.build_request(
            "GET",
            url,
            params={**params, "appsecret_proof": self._proof(token)},
            headers={"Authorization": f"Bearer {token}"},
        )
        return await send_json(self._http, "facebook", request)

    async def _access_token(self, params: dict[str, str]) -> TokenSet:
        params = {
            **params,
            "client_id": self._client.client_id,
            "client_secret": self._client.client_secret,
        }
        request = self._http.build_request(
            "GET", f"{self._graph}/oauth/access_token", params=params
        )
        body = await send_json(self._http, "facebook", request)
        return token_set(body, self._clock.now(), self.scopes)

    async def exchange(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> list[ConnectedIdentity]:
        short = await self._access_token({"redirect_uri": redirect_uri, "code": code})
        user = await self._access_token(
            {"grant_type": "fb_exchange_token", "fb_exchange_token": short.access_token}
        )
        me = await self._get(f"{self._graph}/me", user.access_token, {"fields": "id,name"})
        user_id = str(me["id"])
        identities: list[ConnectedIdentity] = []
        for page in await self._pages(user.access_token):
            page_id = str(page["id"])
            # A Page token fetched with a long-lived user token has no expiry.
            tokens = TokenSet(access_token=str(page["access_token"]), scopes=self.scopes)
            identities.append(
                ConnectedIdentity(
                    platform="facebook",
                    external_id=page_id,
                    display_name=str(page.get("name") or page_id),
                    tokens=tokens,
                    details={"page_id": page_id, "user_id": user_id},
                )
            )
            ig = page.get("instagram_business_account")
            if isinstance(ig, dict) and ig.get("id"):
                username = str(ig.get("username") or "")
                identities.append(
                    ConnectedIdentity(
                        platform="instagram",
                        external_id=str(ig["id"]),
                        display_name=f"@{username}"
                        if username
                        else str(ig.get("name") or ig["id"]),
                        # The person's User token (module docstring says why not the Page's).
                        tokens=TokenSet(
                            access_token=user.access_token,
                            expires_at=user.expires_at,
                            scopes=self.scopes,
                        ),
                        details={
                            "ig_user_id": str(ig["id"]),
                            "username": username,
                            "page_id": page_id,
                            "user_id": user_id,
                        },
                    )
                )
        if not identities:
            raise PlatformError(
                "facebook",
                ErrorKind.PLATFORM_ERROR,
                "no Facebook Page was shared with Herald: choose at least one Page when connecting",
                platform_code="no_pages",
            )
        return identities

    async def _pages(self, user_token: str) -> list[dict[str, Any]]:
        pages: list[dict[str, Any]] = []
        body = await self._get(
            f"{self._graph}/me/accounts", user_token, {"fields": _PAGE_FIELDS, "limit": "100"}
        )
        for _ in range(_MAX_PAGES):
            pages.extend(p for p in body.get("data", []) if isinstance(p, dict))
            next_url = (body.get("paging") or {}).get("next")
            if not next_url:
                break
            if not _same_origin(str(next_url), self._graph):
                # The user's token goes only to the Graph API, whatever a page says is next.
                raise PlatformError(
                    "facebook",
                    ErrorKind.PLATFORM_ERROR,
                    "the Graph API sent a next page on another host",
                )
            # `next` is absolute and already carries the query; only the credentials are added.
            request = self._http.build_request(
                "GET", str(next_url), headers={"Authorization": f"Bearer {user_token}"}
            )
            body = await send_json(self._http, "facebook", request)
        return pages

    async def refresh(self, refresh_token: str) -> TokenSet:
        raise PlatformError(
            "facebook",
            ErrorKind.AUTH_REVOKED,
            "Page tokens are not refreshed; reconnect the Facebook account",
        )

    async def revoke(
        self, access_token: str, refresh_token: str | None, details: dict[str, str]
    ) -> bool:
        """Remove the app's permissions for the person who connected the Pages.

        That ends every Page token from the same login, so the caller revokes only when no
        other account of the business still depends on that person's grant. The app access
        token (`id|secret`) may do this for any user of the app.
        """
        user_id = details.get("user_id")
        if not user_id:
            return False
        app_token = f"{self._client.client_id}|{self._client.client_secret}"
        request = self._http.build_request(
            "DELETE",
            f"{self._graph}/{user_id}/permissions",
            headers={"Authorization": f"Bearer {app_token}"},
        )
        response = await send(self._http, "facebook", request)
        if response.status_code >= 400:
            raise platform_error("facebook", response)
        return True


def _same_origin(url: str, base: str) -> bool:
    a, b = httpx.URL(url), httpx.URL(base)
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)
