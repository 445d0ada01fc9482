"""The sandbox's first-comment endpoints: a LinkedIn comment and a comment on a Facebook Page
post or an Instagram media, each as its platform documents it. X and Threads comment with a
reply, which their own publishing endpoints already take.

    POST /rest/socialActions/{post URN}/comments   {actor, object, message: {text}} -> 201
    GET  /rest/socialActions/{post URN}/comments   {elements: [...]}, newest first
    POST /{version}/{post or media id}/comments    message=... -> {id}
    GET  /{version}/{post or media id}/comments    {data: [...]}, newest first

Every contract the real endpoints hold is held here: the post must exist, a LinkedIn comment's
`object` must be the post in its path and its `actor` the post's author, the text must be
there. Faults narrowed with `"call": "comment"` hit these endpoints alone (POST /_sandbox/faults);
what was commented is listed by `GET /_sandbox/comments` and forgotten by `DELETE`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from herald.accounts import PlatformName
from herald.local.sandbox.graph import graph_error, graph_time, invalid_token, params, token_of
from herald.local.sandbox.graph import valid as graph_token_valid
from herald.local.sandbox.records import answer, bearer, faulted, publishing, sandbox

router = APIRouter()


def _keep(request: Request, record: dict[str, Any]) -> dict[str, Any]:
    state = sandbox(request)
    record.setdefault("created_at", state.now())
    publishing(request).comments[str(record["id"])] = record
    return record


def _under(request: Request, platform: PlatformName, parent: str) -> list[dict[str, Any]]:
    found = [
        c
        for c in publishing(request).comments.values()
        if c["platform"] == platform and c["parent"] == parent
    ]
    return sorted(found, key=lambda c: -c["created_at"])


# --- LinkedIn ------------------------------------------------------------------------------
def _linkedin_error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, "status": status, **extra}, status_code=status)


@router.post("/rest/socialActions/{urn}/comments")
async def linkedin_comment(urn: str, request: Request) -> Response:
    from herald.local.sandbox.publishing import linkedin_token, linkedin_version_refused

    state, token = sandbox(request), linkedin_token(request)
    state.calls["linkedin.comments"] += 1
    if token is None:
        return _linkedin_error(401, "Invalid access token", serviceErrorCode=65600)
    refused = linkedin_version_refused(request)
    if refused is not None:
        return refused
    body = await request.json()
    post = state.posts.get(urn)
    if post is None or post["platform"] != "linkedin":
        return _linkedin_error(404, f"{urn} does not exist")
    text = str((body.get("message") or {}).get("text") or "")
    if body.get("object") != urn:
        return _linkedin_error(400, "object must be the post the comment is made on")
    if not text:
        return _linkedin_error(422, "message.text is required")
    actor = str(body.get("actor") or "")
    if actor != post["account"]:
        return _linkedin_error(403, "Not enough permissions to comment as this actor")
    fault, refused = await faulted(request, "linkedin", actor, bearer(request), call="comment")
    if refused is not None:
        return refused
    number = publishing(request).next_id()
    comment_urn = f"urn:li:comment:({urn},{7_100_000_000_000_000_000 + number})"
    record = _keep(
        request,
        {
            "id": comment_urn,
            "platform": "linkedin",
            "account": actor,
            "parent": urn,
            "text": text,
            "request": body,
        },
    )
    answered = {
        "id": str(7_100_000_000_000_000_000 + number),
        "commentUrn": comment_urn,
        "actor": actor,
        "object": urn,
        "message": {"text": text},
        "created": {"actor": actor, "time": int(record["created_at"] * 1000)},
    }
    return await answer(
        fault, JSONResponse(answered, status_code=201, headers={"x-restli-id": comment_urn})
    )


@router.get("/rest/socialActions/{urn}/comments")
async def linkedin_comments(urn: str, request: Request) -> Response:
    from herald.local.sandbox.publishing import linkedin_token, linkedin_version_refused

    if linkedin_token(request) is None:
        return _linkedin_error(401, "Invalid access token", serviceErrorCode=65600)
    refused = linkedin_version_refused(request)
    if refused is not None:
        return refused
    elements = [
        {
            "id": c["id"].rsplit(",", 1)[-1].rstrip(")"),
            "commentUrn": c["id"],
            "actor": c["account"],
            "object": urn,
            "message": {"text": c["text"]},
            "created": {"actor": c["account"], "time": int(c["created_at"] * 1000)},
        }
        for c in _under(request, "linkedin", urn)
    ]
    return JSONResponse({"elements": elements, "paging": {"count": len(elements), "start": 0}})


# --- Facebook Page posts and Instagram media ---------------------------------------------------
@router.post("/{version:sandbox_graph_version}/{object_id}/comments")
async def graph_comment(version: str, object_id: str, request: Request) -> Response:
    state, given = sandbox(request), await params(request)
    if not graph_token_valid(request, given):
        return invalid_token()
    post = state.posts.get(object_id)
    if post is None or post["platform"] not in ("facebook", "instagram"):
        why = f"(#100) Unsupported post request. Object with ID '{object_id}' does not exist"
        return graph_error(why, 100, subcode=33)
    platform: PlatformName = post["platform"]
    state.calls[f"{platform}.comments"] += 1
    text = given.get("message") or ""
    if not text:
        return graph_error("(#100) The parameter message is required", 100)
    token = token_of(request, given)
    fault, refused = await faulted(request, platform, post["account"], token, call="comment")
    if refused is not None:
        return refused
    comment_id = f"{object_id}_{200_000 + publishing(request).next_id()}"
    _keep(
        request,
        {
            "id": comment_id,
            "platform": platform,
            "account": post["account"],
            "parent": object_id,
            "text": text,
            "request": given,
        },
    )
    return await answer(fault, JSONResponse({"id": comment_id}))


@router.get("/{version:sandbox_graph_version}/{object_id}/comments")
async def graph_comments(version: str, object_id: str, request: Request) -> Response:
    state, given = sandbox(request), dict(request.query_params)
    if not graph_token_valid(request, given):
        return invalid_token()
    post = state.posts.get(object_id)
    if post is None:
        return graph_error(f"(#100) Object with ID '{object_id}' does not exist", 100, subcode=33)
    data = []
    for c in _under(request, post["platform"], object_id):
        when = graph_time(c["created_at"])
        if post["platform"] == "instagram":
            data.append({"id": c["id"], "text": c["text"], "timestamp": when})
        else:
            data.append({"id": c["id"], "message": c["text"], "created_time": when})
    return JSONResponse({"data": data})


# --- sandbox controls ------------------------------------------------------------------------
@router.get("/_sandbox/comments")
async def list_comments(request: Request) -> Response:
    platform = request.query_params.get("platform")
    found = [
        {k: v for k, v in c.items() if k != "request"}
        for c in publishing(request).comments.values()
        if platform in (None, c["platform"])
    ]
    return JSONResponse({"comments": found})


@router.delete("/_sandbox/comments")
async def forget_comments(request: Request) -> Response:
    publishing(request).comments.clear()
    return Response(status_code=204)
