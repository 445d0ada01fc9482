"""Reading stored files from S3: ranged reads for inspection, chunk streams for publishers.

A chunk is one ranged GetObject, read whole and handed on before the next is asked for, so a
worker holds one chunk of a file at a time whatever its size (bench/bench_media.py measures the
peak for a 500 MB video). boto3 is synchronous: each read runs in a thread (`asyncio.to_thread`)
so the event loop keeps serving the batch's other records while S3 answers.

A read that fails is a `MediaReadError`: the engine treats it as transient (nothing reached the
platform from this chunk), so the message comes back and the upload resumes from its state.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from herald.errors import HeraldError


class MediaReadError(HeraldError):
    code = "media_read_error"


@dataclass(frozen=True)
class S3Files:
    """The media bucket: HEAD, ranged reads and chunk streams by key."""

    s3: Any  # a boto3 S3 client
    bucket: str

    def size(self, key: str) -> int | None:
        """The object's size, or None when there is none under `key`."""
        from botocore.exceptions import ClientError

        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                return None
            raise MediaReadError(f"could not look at media {key}: {code}") from exc
        return int(head["ContentLength"])

    def read(self, key: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of the object (fewer at its end)."""
        from botocore.exceptions import BotoCoreError, ClientError

        if end <= start:
            return b""
        try:
            answer = self.s3.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end - 1}"
            )
            body = answer["Body"]
            try:
                data: bytes = body.read()
            finally:
                body.close()
        except (BotoCoreError, ClientError) as exc:
            raise MediaReadError(f"could not read media {key}: {type(exc).__name__}") from exc
        return data

    async def chunks(
        self, key: str, chunk_size: int, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        if end is None:
            size = await asyncio.to_thread(self.size, key)
            if size is None:
                raise MediaReadError(f"media {key} is no longer stored")
            end = size
        at = start
        while at < end:
            stop = min(end, at + chunk_size)
            chunk = await asyncio.to_thread(self.read, key, at, stop)
            if not chunk:
                raise MediaReadError(f"media {key} ended at {at} bytes, before {end}")
            at += len(chunk)
            yield chunk

    def presigned_get(self, key: str, expires_seconds: int) -> str:
        """A GET link to the object for `expires_seconds` (signed locally: no request to S3)."""
        url: str = self.s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=int(expires_seconds),
        )
        return url

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key)

    def mark_used(self, key: str) -> None:
        """Take the file out of the lifecycle rule that expires unused uploads."""
        self.s3.put_object_tagging(
            Bucket=self.bucket,
            Key=key,
            Tagging={"TagSet": [{"Key": UNUSED_TAG, "Value": "false"}]},
        )


# The tag the presigned upload puts on every new file and the bucket's lifecycle rule expires on
# (template.yaml, MediaBucket): a file a post uses is re-tagged "false" and kept.
UNUSED_TAG = "herald-unused"
