"""Media a business uploads once and attaches to posts: images, GIFs, videos and PDF documents.

    model.py    what a file is (MediaRecord, as stored) and what a publisher is handed
                (Attachment: the facts, the alt text, and a chunk streamer over S3)
    inspect.py  the facts, read from the file's own bytes in S3 with ranged reads
    library.py  upload (presigned POST), inspection after upload, lookup, delete, resolve
    limits.py   each platform's documented limits, checked when a post is made or edited
    streams.py  the S3 chunk streamer publishers upload from, in bounded memory

docs/media.md describes the model and the interface publishers build on.
"""
