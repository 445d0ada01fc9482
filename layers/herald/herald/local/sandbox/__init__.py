"""A stand-in for LinkedIn, X, Meta and Threads on one local server (http://127.0.0.1:8700 under
`make dev`).

It answers on the platforms' own paths, so the adapters run unchanged with only their base URLs
pointed here, and it checks what the real ones check: client credentials, exact redirect URIs,
single-use codes that expire, PKCE verifiers, rotating X refresh tokens, and their error shapes.
"""

from __future__ import annotations

SANDBOX_URL = "http://127.0.0.1:8700"


def platform_env(base_url: str = SANDBOX_URL) -> dict[str, str]:
    """Environment that points every platform base URL at the sandbox, whose images are served
    from a private address too, with the scopes its metrics endpoints need."""
    return {
        "IMAGE_PRIVATE_HOSTS": "true",
        "LINKEDIN_AUTH_BASE": base_url,
        "LINKEDIN_API_BASE": base_url,
        # The sandbox plays an app LinkedIn approved for member post analytics (Community
        # Management API), so engagement metrics can be read from it; a real app asks for the
        # scope only once it has that approval (LINKEDIN_SCOPES).
        "LINKEDIN_SCOPES": "openid profile w_member_social r_member_postAnalytics",
        "X_AUTH_BASE": base_url,
        "X_API_BASE": base_url,
        "META_DIALOG_BASE": base_url,
        "META_GRAPH_BASE": base_url,
        "META_GRAPH_VIDEO_BASE": base_url,
        "META_RUPLOAD_BASE": base_url,
        # Threads' own Graph API answers on versioned paths Meta's would shadow: it has a prefix.
        "THREADS_AUTH_BASE": f"{base_url}/threads",
        "THREADS_GRAPH_BASE": f"{base_url}/threads",
    }
