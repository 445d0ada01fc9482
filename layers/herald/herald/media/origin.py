"""Where browsers send uploads: the origin of the media bucket's presigned POST URL.

The dashboard's Content-Security-Policy must name it in `connect-src`, or the browser refuses the
upload. It is read from a POST presigned by the same client the API uses (signing is local: no
request leaves), so it is whatever the API hands out: the bucket's own host in AWS
(`https://<bucket>.s3.amazonaws.com`, regional outside us-east-1), moto's address locally.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from herald.media.streams import S3Files


def upload_origin(files: S3Files) -> str | None:
    """`scheme://host[:port]` of the upload URL; None with no bucket (or no way to sign)."""
    if not files.bucket:
        return None
    try:
        post = files.s3.generate_presigned_post(
            Bucket=files.bucket, Key="media/origin", ExpiresIn=60
        )
    except Exception:  # noqa: BLE001 - no credentials: the page still works, uploads do not
        return None
    url = urlsplit(str(post["url"]))
    if url.scheme not in ("http", "https") or not url.netloc:
        return None
    return f"{url.scheme}://{url.netloc}"
