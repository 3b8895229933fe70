"""The Mastodon-compatible client API: an adapter over the domains' services.

Routes under /api/v1, /api/v2, /oauth and /.well-known translate Mastodon's requests and
entities to and from the same services the native API calls; no rule (who may do what, what
counts, what notifies) is written here a second time. Mastodon's own documentation is the
contract: `{"error": ...}` bodies, `Link` paging by max_id/since_id/min_id, long-lived app tokens.
"""

PREFIXES = ("/api/v1/", "/api/v2/", "/oauth/", "/.well-known/", "/nodeinfo/", "/avatars/", "/headers/")
