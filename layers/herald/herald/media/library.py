"""The media library: hand out an upload, read the file once it is there, resolve a post's refs.

    POST /media      -> new_upload: a media record (awaiting_upload, with a TTL) and a presigned
                        S3 POST for one object, its size bounded by the policy and the object
                        tagged unused (the bucket's lifecycle rule expires unused files)
    client uploads the file straight to S3 (the API never carries its bytes)
    GET /media/{id}  -> get: a record still awaiting its upload is inspected if its object is
                        there now (herald.media.inspect), and settles as ready or rejected
    a post names it  -> resolve: the same inspection if nobody looked yet, then an Attachment
                        with the facts read from the file; the object is tagged used

Inspection happens on the first read rather than on an S3 event: it needs no function or
notification of its own, and a client always reads the media (or makes a post with it) before
it matters. Everything here is synchronous (boto3): the API calls it from its thread pool.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from herald.clock import isoformat
from herald.errors import FieldError, NotFound
from herald.ids import new_id
from herald.media.inspect import Unsupported, inspect
from herald.media.model import Attachment, MediaRecord, MediaRef, MediaStatus
from herald.media.streams import UNUSED_TAG, MediaReadError, S3Files
from herald.observability import logger

if TYPE_CHECKING:
    from herald.clock import Clock
    from herald.settings import Settings
    from herald.store.media import MediaRepository

_TAGGING = (
    f"<Tagging><TagSet><Tag><Key>{UNUSED_TAG}</Key><Value>true</Value></Tag></TagSet></Tagging>"
)


@dataclass(frozen=True)
class Upload:
    media: MediaRecord
    url: str
    fields: dict[str, str]
    expires_at: str
    max_bytes: int


def object_key(business_id: str, media_id: str) -> str:
    return f"media/{business_id}/{media_id}"


class MediaLibrary:
    def __init__(
        self, repo: MediaRepository, files: S3Files, clock: Clock, settings: Settings
    ) -> None:
        self._repo = repo
        self._files = files
        self._clock = clock
        self._settings = settings

    def new_upload(self, business_id: str, filename: str | None = None) -> Upload:
        s = self._settings
        now = self._clock.now()
        media_id = new_id("media")
        record = MediaRecord(
            media_id=media_id,
            business_id=business_id,
            key=object_key(business_id, media_id),
            status=MediaStatus.AWAITING_UPLOAD,
            created_at=isoformat(now),
            filename=filename,
        )
        unused_until = now + timedelta(days=s.media_unused_days)
        self._repo.create(record, expires_at=int(unused_until.timestamp()))
        post = self._files.s3.generate_presigned_post(
            Bucket=self._files.bucket,
            Key=record.key,
            Fields={"tagging": _TAGGING},
            Conditions=[{"tagging": _TAGGING}, ["content-length-range", 1, s.media_max_bytes]],
            ExpiresIn=s.media_upload_seconds,
        )
        expires = now + timedelta(seconds=s.media_upload_seconds)
        return Upload(
            record, post["url"], dict(post["fields"]), isoformat(expires), s.media_max_bytes
        )

    def get(self, business_id: str, media_id: str) -> MediaRecord:
        record = self._repo.get(business_id, media_id)
        if record.status == MediaStatus.AWAITING_UPLOAD:
            record = self._inspect(record)
        return record

    def delete(self, business_id: str, media_id: str) -> None:
        record = self._repo.delete(business_id, media_id)
        try:
            self._files.delete(record.key)
        except Exception:  # noqa: BLE001 - the record is gone; the lifecycle rule ends the file
            logger.warning("could not delete a media file", extra={"media_id": media_id})

    def _inspect(self, record: MediaRecord) -> MediaRecord:
        size = self._files.size(record.key)
        if size is None:
            return record  # not uploaded yet
        try:
            if size > self._settings.media_max_bytes:
                raise Unsupported(f"{size} bytes, over Herald's {self._settings.media_max_bytes}")
            facts = inspect(self._files, record.key, size)
        except Unsupported as exc:
            return self._repo.settle(record, MediaStatus.REJECTED, None, str(exc))
        return self._repo.settle(record, MediaStatus.READY, facts, None)

    def resolve(
        self, business_id: str, refs: Sequence[MediaRef]
    ) -> tuple[tuple[Attachment, ...], list[FieldError]]:
        """The attachments a post's refs name, or a field error for each one that cannot be
        attached (unknown, not uploaded yet, not a file Herald publishes)."""
        attachments: list[Attachment] = []
        problems: list[FieldError] = []
        for index, ref in enumerate(refs):
            field = f"media[{index}].media_id"
            try:
                record = self.get(business_id, ref.media_id)
            except NotFound:
                problems.append(
                    FieldError(field, f"unknown media {ref.media_id}", "media.not_found")
                )
                continue
            except MediaReadError as exc:
                problems.append(FieldError(field, str(exc), "media.unreadable"))
                continue
            if record.status == MediaStatus.AWAITING_UPLOAD or record.facts is None:
                if record.status == MediaStatus.REJECTED:
                    why = f"{ref.media_id} cannot be published: {record.reason}"
                    problems.append(FieldError(field, why, "media.rejected"))
                else:
                    why = f"{ref.media_id} has not been uploaded yet: upload it, then post"
                    problems.append(FieldError(field, why, "media.not_uploaded"))
                continue
            attachments.append(
                Attachment(ref.media_id, record.key, record.facts, ref.alt_text, ref.part)
            )
        return tuple(attachments), problems

    def mark_used(self, attachments: Sequence[Attachment]) -> None:
        """Keep the files a post uses out of the unused-upload expiry; best effort (a file not
        re-tagged is still there for days, far longer than any post waits for its upload)."""
        for key in dict.fromkeys(a.key for a in attachments):
            try:
                self._files.mark_used(key)
            except Exception:  # noqa: BLE001
                logger.warning("could not mark a media file used", extra={"key": key})


def facts_out(record: MediaRecord) -> dict[str, Any]:
    facts = record.facts
    out: dict[str, Any] = {
        "media_id": record.media_id,
        "status": record.status.value,
        "filename": record.filename,
        "created_at": record.created_at,
    }
    if facts is not None:
        out |= {
            "kind": facts.kind,
            "content_type": facts.content_type,
            "size": facts.size,
            "width": facts.width,
            "height": facts.height,
            "duration_seconds": facts.duration_seconds,
            "animated": facts.animated,
            "pages": facts.pages,
        }
    if record.reason:
        out["reason"] = record.reason
    return out
