"""`POST /media`, `GET /media/{id}`, `DELETE /media/{id}`: the media library (herald.media).

`POST` answers with a presigned S3 POST: the client sends the file straight to the bucket
(the form's `fields`, then the file as `file`, last), and the API never carries its bytes.
`GET` then reads what the file is from the file itself (kind, type, size, dimensions,
duration, pages), once, and says `ready` or `rejected` with why; until the upload is there it
says `awaiting_upload`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from herald.api.deps import ContainerDep, PrincipalDep
from herald.api.fields import Plain
from herald.api.ratelimit import RateLimit
from herald.media.model import MediaRecord

router = APIRouter(tags=["media"], dependencies=[RateLimit("default")])

MediaIdPath = Annotated[str, Path(pattern=r"^media_[0-9a-z]{26}$", examples=["media_01jfz..."])]


class MediaUploadIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"filename": "oven.mp4"}]}
    )

    filename: Plain | None = Field(
        None, max_length=255, description="kept for people to recognise the file; never trusted"
    )


class UploadOut(BaseModel):
    url: str = Field(description="POST the form here")
    fields: dict[str, str] = Field(description="form fields to send as they are, before `file`")
    expires_at: str
    max_bytes: int


class MediaOut(BaseModel):
    media_id: str
    status: Literal["awaiting_upload", "ready", "rejected"]
    filename: str | None = None
    created_at: str
    kind: Literal["image", "gif", "video", "document"] | None = None
    content_type: str | None = None
    size: int | None = None
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None
    animated: bool | None = None
    pages: int | None = None
    reason: str | None = Field(None, description="why a rejected file cannot be published")

    @classmethod
    def of(cls, record: MediaRecord) -> MediaOut:
        from herald.media.library import facts_out

        return cls(**facts_out(record))


class MediaCreated(MediaOut):
    upload: UploadOut


@router.post(
    "/media",
    response_model=MediaCreated,
    status_code=201,
    summary="Start an upload: a presigned S3 POST for one file",
)
async def create_media(
    body: MediaUploadIn, principal: PrincipalDep, container: ContainerDep
) -> MediaCreated:
    upload = await run_in_threadpool(
        container.media.new_upload, principal.business_id, body.filename
    )
    return MediaCreated(
        **MediaOut.of(upload.media).model_dump(),
        upload=UploadOut(
            url=upload.url,
            fields=upload.fields,
            expires_at=upload.expires_at,
            max_bytes=upload.max_bytes,
        ),
    )


@router.get(
    "/media/{media_id}",
    response_model=MediaOut,
    summary="One file: what it is, read from its bytes once uploaded",
)
async def get_media(
    media_id: MediaIdPath, principal: PrincipalDep, container: ContainerDep
) -> MediaOut:
    record = await run_in_threadpool(container.media.get, principal.business_id, media_id)
    return MediaOut.of(record)


@router.delete("/media/{media_id}", status_code=204, summary="Delete a file and its record")
async def delete_media(
    media_id: MediaIdPath, principal: PrincipalDep, container: ContainerDep
) -> Response:
    await run_in_threadpool(container.media.delete, principal.business_id, media_id)
    return Response(status_code=204)
