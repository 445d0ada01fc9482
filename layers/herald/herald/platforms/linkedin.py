"""LinkedIn through the versioned Posts API (`/rest/posts`), as a member or an organisation.

The author is the URN kept on the account (`details["author_urn"]`): `urn:li:person:...` for a
member, `urn:li:organization:...` for a Page the member administers.

Media: `image_url` is downloaded and sent through the Images API as before; library
attachments go through the Images, Videos (multipart) and Documents APIs
(herald.platforms.linkedin_media), all of them uploaded and AVAILABLE before the post is made,
which then carries one `media` (an image with its alt text, a video, a document) or a
`multiImage` of two to twenty images.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from herald.accounts import Credentials, PlatformName
from herald.platforms import errors
from herald.platforms.base import (
    RECONCILE_PAGES,
    Content,
    ErrorKind,
    PlatformError,
    Progress,
    Published,
)
from herald.platforms.images import ImageFetcher
from herald.platforms.linkedin_media import LinkedInUploads, post_content

# "little" text reserves these; unescaped, LinkedIn answers 201 and silently cuts the post at
# the first one (https://learn.microsoft.com/linkedin/marketing/community-management/shares/
# little-text-format).
_RESERVED = re.compile(r"([\\|{}@\[\]()<>#*_~])")
# Left as written: `_ # * ~` inside a URL so LinkedIn still links it whole (the brackets, `@` and
# `|` a URL may hold are still escaped: those are the ones little parses as structure), and a
# plain `#word`, which is little's own hashtag element, so the hashtag stays clickable.
_KEEP = re.compile(r"https?://[^\s\\|{}@\[\]()<>]+|(?<!\S)#[^\W_]+")


def escape_little_text(text: str) -> str:
    out: list[str] = []
    last = 0
    for match in _KEEP.finditer(text):
        out.append(_RESERVED.sub(r"\\\1", text[last : match.start()]))
        out.append(match.group())
        last = match.end()
    out.append(_RESERVED.sub(r"\\\1", text[last:]))
    return "".join(out)


def unescape_little_text(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _title(text: str) -> str:
    """A document post's title (the Posts API requires one): the post's first line, short."""
    first = text.strip().splitlines()[0] if text.strip() else "Document"
    return first[:100]


def post_url(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}/"


RECONCILE_PAGE_SIZE = 50


class LinkedInPublisher:
    platform: PlatformName = "linkedin"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_base: str,
        version: str,
        now: Callable[[], datetime] | None = None,
        images: ImageFetcher | None = None,
    ) -> None:
        self._http = http
        self._images = images or ImageFetcher(http)
        self._base = api_base.rstrip("/")
        self._version = version
        self._now = now or (lambda: datetime.now(UTC))

    def _headers(self, creds: Credentials) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {creds.access_token}",
            "LinkedIn-Version": self._version,
            "X-Restli-Protocol-Version": "2.0.0",
            "Content-Type": "application/json",
        }

    @staticmethod
    def _author(creds: Credentials) -> str:
        return creds.details.get("author_urn") or creds.external_id

    async def publish(self, creds: Credentials, content: Content, progress: Progress) -> Published:
        if progress.part_ids:  # the post is already out: nothing to resume on LinkedIn
            urn = progress.part_ids[0]
            return Published(urn, post_url(urn), (urn,))
        author = self._author(creds)
        body: dict[str, Any] = {
            "author": author,
            "commentary": escape_little_text(content.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        image_urn = None
        if content.image_url:
            image_urn = await self._upload_image(creds, author, content.image_url)
        urns: dict[str, str] = {}
        if content.attachments:
            uploads = LinkedInUploads(
                self._base, self._headers(creds), creds.access_token, author, self._media_call,
                progress,
            )  # fmt: skip
            urns = await uploads.attachments(content.attachments)
        media = post_content(content.attachments, urns, image_urn, _title(content.text))
        if media is not None:
            body["content"] = media
        elif content.link:
            body["content"] = {"article": {"source": content.link, "title": content.link}}
        await progress.about_to_post()
        response = await errors.send(
            self._http,
            "linkedin",
            "POST",
            f"{self._base}/rest/posts",
            headers=self._headers(creds),
            json=body,
        )
        if response.status_code != 201:
            raise self.error(response)
        urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id")
        if not urn:
            raise errors.unexpected("linkedin", response, "an x-restli-id header")
        await progress.confirm(urn)
        return Published(urn, post_url(urn), (urn,))

    async def _upload_image(self, creds: Credentials, owner: str, image_url: str) -> str:
        init = await errors.send(
            self._http,
            "linkedin",
            "POST",
            f"{self._base}/rest/images",
            params={"action": "initializeUpload"},
            headers=self._headers(creds),
            json={"initializeUploadRequest": {"owner": owner}},
        )
        if init.status_code != 200:
            raise self.error(init)
        value = errors.json_body(init).get("value", {})
        upload_url, image_urn = value.get("uploadUrl"), value.get("image")
        if not upload_url or not image_urn:
            raise errors.unexpected("linkedin", init, "an uploadUrl and image URN")
        data, content_type = await self._images.fetch("linkedin", image_url)
        put = await errors.send(
            self._http,
            "linkedin",
            "PUT",
            upload_url,
            content=data,
            headers={"Authorization": f"Bearer {creds.access_token}", "Content-Type": content_type},
        )
        if put.status_code not in (200, 201):
            raise self.error(put)
        return str(image_urn)

    async def _media_call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """An upload request: a non-2xx is LinkedIn's error, and a lost answer is only a lost
        upload (it creates no post), so it is transient rather than ambiguous."""
        try:
            response = await errors.send(self._http, "linkedin", method, url, **kwargs)
        except PlatformError as exc:
            if exc.kind is ErrorKind.AMBIGUOUS:
                raise PlatformError(
                    "linkedin", ErrorKind.TRANSIENT, f"media upload: {exc.detail}"
                ) from exc
            raise
        if not 200 <= response.status_code < 300:
            raise self.error(response)
        return response

    async def find_recent(
        self, creds: Credentials, content: Content, since: datetime
    ) -> Published | None:
        author = self._author(creds)
        headers = self._headers(creds) | {"X-RestLi-Method": "FINDER"}
        wanted = content.text.strip()
        cutoff = since.timestamp() * 1000
        # Newest first: page back until the posts are older than the window (base.RECONCILE_PAGES).
        for page in range(RECONCILE_PAGES):
            start = page * RECONCILE_PAGE_SIZE
            # The author is a URN in a query parameter: Rest.li 2.0 wants it percent-encoded whole.
            url = (
                f"{self._base}/rest/posts?author={quote(author, safe='')}&q=author"
                f"&count={RECONCILE_PAGE_SIZE}&start={start}"
            )
            response = await errors.send(self._http, "linkedin", "GET", url, headers=headers)
            if response.status_code != 200:
                raise self.error(response)
            elements = errors.json_body(response).get("elements", [])
            older = False
            for element in elements:
                created = element.get("publishedAt") or element.get("createdAt") or 0
                if created < cutoff:
                    older = True
                    continue
                commentary = unescape_little_text(str(element.get("commentary", ""))).strip()
                if commentary == wanted and element.get("id"):
                    urn = str(element["id"])
                    return Published(urn, post_url(urn), (urn,))
            if older or len(elements) < RECONCILE_PAGE_SIZE:
                break
        return None

    # --- first comment -------------------------------------------------------------------------
    # The Comments API: POST /rest/socialActions/{post URN}/comments with the actor (the post's
    # author), the object (the post) and `message.text`; 201 with the comment, whose URN is
    # `commentUrn` (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/
    # shares/comments-api). GET on the same path lists the post's comments, newest first.
    def _comments_url(self, post_urn: str) -> str:
        return f"{self._base}/rest/socialActions/{quote(post_urn, safe='')}/comments"

    async def comment(self, creds: Credentials, parent_id: str, text: str) -> str:
        body = {"actor": self._author(creds), "object": parent_id, "message": {"text": text}}
        response = await errors.send(
            self._http,
            "linkedin",
            "POST",
            self._comments_url(parent_id),
            headers=self._headers(creds),
            json=body,
        )
        if response.status_code not in (200, 201):
            raise self.error(response)
        answered = errors.json_body(response)
        urn = (
            answered.get("commentUrn")
            or answered.get("id")
            or response.headers.get("x-restli-id")
            or response.headers.get("x-linkedin-id")
        )
        if not urn:
            raise errors.unexpected("linkedin", response, "a commentUrn")
        return str(urn)

    async def find_comment(
        self, creds: Credentials, parent_id: str, text: str, since: datetime
    ) -> str | None:
        response = await errors.send(
            self._http,
            "linkedin",
            "GET",
            self._comments_url(parent_id),
            headers=self._headers(creds),
        )
        if response.status_code != 200:
            raise self.error(response)
        author, cutoff = self._author(creds), since.timestamp() * 1000
        for element in errors.json_body(response).get("elements", []):
            created = (element.get("created") or {}).get("time") or 0
            said = str((element.get("message") or {}).get("text", "")).strip()
            if element.get("actor") == author and said == text.strip() and created >= cutoff:
                return str(element.get("commentUrn") or element.get("id"))
        return None

    def error(self, response: httpx.Response) -> PlatformError:
        """LinkedIn's `{message, serviceErrorCode, code, status}` in the error model."""
        body = errors.json_body(response)
        message = str(body.get("message") or "")
        code = body.get("code") or body.get("serviceErrorCode")
        platform_code = str(code) if code is not None else None
        status = response.status_code
        if status == 426:
            # LinkedIn's answer to a sunset or never-released LinkedIn-Version
            # ({"status": 426, "code": "NONEXISTENT_VERSION", ...}): every call fails the same
            # way until the setting moves, so no retry and no blame on the post.
            return PlatformError(
                "linkedin",
                ErrorKind.PLATFORM_CONTRACT,
                f"LinkedIn no longer accepts LinkedIn-Version {self._version} "
                f"({message or 'version not active'}); set LINKEDIN_VERSION to a current "
                "version (docs/operating.md)",
                status=status,
                platform_code=platform_code or "NONEXISTENT_VERSION",
            )
        if status == 422 and body.get("code") == "DUPLICATE_POST":
            return PlatformError(
                "linkedin",
                ErrorKind.DUPLICATE,
                message or "duplicate post",
                status=status,
                platform_code="DUPLICATE_POST",
            )
        if status == 429:
            retry_after = errors.parse_retry_after(response.headers.get("retry-after"))
            if retry_after is None:
                # LinkedIn's member and application day limits reset at midnight UTC and the
                # 429 carries no header saying so.
                now = self._now()
                midnight = (now + timedelta(days=1)).replace(
                    hour=0, minute=0, second=0, microsecond=0
                )
                retry_after = (midnight - now).total_seconds()
            return errors.by_status(
                "linkedin", response, message, platform_code=platform_code, retry_after=retry_after
            )
        return errors.by_status("linkedin", response, message, platform_code=platform_code)
