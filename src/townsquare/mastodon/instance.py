"""Discovery: the instance documents, nodeinfo, OAuth server metadata, default images."""

from __future__ import annotations

import struct
import zlib
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from townsquare.config import Settings
from townsquare.db.session import SessionDep, reads_only
from townsquare.mastodon.entities import AVATAR_PATH, HEADER_PATH
from townsquare.mastodon.statistics import counts
from townsquare.oauth import scopes

# Clients parse this as Mastodon 4.2 (Mastodon.py keeps what is before the first space). No
# `api_versions`: with it, clients switch to 4.3+ APIs (grouped notifications) we do not serve.
MASTODON_VERSION = "4.2.0"
VERSION = f"{MASTODON_VERSION} (compatible; Townsquare 0.1.0)"
MAX_CHARACTERS = 500

router = APIRouter()


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _configuration(request: Request) -> dict[str, Any]:
    return {
        "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0},
        "statuses": {"max_characters": MAX_CHARACTERS, "max_media_attachments": 0, "characters_reserved_per_url": 23},
        "media_attachments": {
            "supported_mime_types": [],
            "image_size_limit": 0,
            "image_matrix_limit": 0,
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
        },
        "polls": {"max_options": 0, "max_characters_per_option": 0, "min_expiration": 0, "max_expiration": 0},
        "translation": {"enabled": False},
    }


def _streaming_url(request: Request) -> str:
    return ("wss://" if request.url.scheme == "https" else "ws://") + request.url.netloc


@router.get("/api/v1/instance")
@router.get("/api/v1/instance/")
@reads_only
async def instance_v1(request: Request, session: SessionDep) -> Response:
    settings = _settings(request).mastodon
    users, statuses = await counts(session)
    return JSONResponse(
        {
            "uri": request.url.netloc,
            "title": settings.title,
            "short_description": settings.description,
            "description": settings.description,
            "email": settings.contact_email,
            "version": VERSION,
            "urls": {"streaming_api": _streaming_url(request)},
            "stats": {"user_count": users, "status_count": statuses, "domain_count": 0},
            "thumbnail": None,
            "languages": ["en"],
            "registrations": True,
            "approval_required": False,
            "invites_enabled": False,
            "configuration": _configuration(request),
            "contact_account": None,
            "rules": [],
        }
    )


@router.get("/api/v2/instance")
@router.get("/api/v2/instance/")
@reads_only
async def instance_v2(request: Request, session: SessionDep) -> Response:
    settings = _settings(request).mastodon
    users, _ = await counts(session)
    return JSONResponse(
        {
            "domain": request.url.netloc,
            "title": settings.title,
            "version": VERSION,
            "source_url": "https://github.com/townsquare/townsquare",
            "description": settings.description,
            "usage": {"users": {"active_month": users}},
            "thumbnail": {"url": base_url(request) + HEADER_PATH},
            "icon": [],
            "languages": ["en"],
            "configuration": {
                **_configuration(request),
                "urls": {"streaming": _streaming_url(request), "status": None},
                "vapid": {"public_key": ""},
                "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0},
            },
            "registrations": {"enabled": True, "approval_required": False, "message": None},
            "contact": {"email": settings.contact_email, "account": None},
            "rules": [],
        }
    )


@router.get("/api/v1/instance/peers")
@reads_only
async def peers() -> Response:
    return JSONResponse([])


@router.get("/api/v1/instance/activity")
@reads_only
async def activity() -> Response:
    return JSONResponse([])


@router.get("/api/v1/instance/rules")
@reads_only
async def rules() -> Response:
    return JSONResponse([])


@router.get("/.well-known/nodeinfo")
@reads_only
async def nodeinfo_links(request: Request) -> Response:
    href = base_url(request) + "/nodeinfo/2.0"
    return JSONResponse({"links": [{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": href}]})


@router.get("/nodeinfo/2.0")
@reads_only
async def nodeinfo(session: SessionDep) -> Response:
    users, statuses = await counts(session)
    return JSONResponse(
        {
            "version": "2.0",
            "software": {"name": "townsquare", "version": "0.1.0"},
            "protocols": [],
            "services": {"outbound": [], "inbound": []},
            "usage": {"users": {"total": users, "activeMonth": users, "activeHalfyear": users}, "localPosts": statuses},
            "openRegistrations": True,
            "metadata": {},
        }
    )


@router.get("/.well-known/oauth-authorization-server")
@reads_only
async def oauth_metadata(request: Request) -> Response:
    base = base_url(request)
    return JSONResponse(
        {
            "issuer": base + "/",
            "authorization_endpoint": base + "/oauth/authorize",
            "token_endpoint": base + "/oauth/token",
            "revocation_endpoint": base + "/oauth/revoke",
            "app_registration_endpoint": base + "/api/v1/apps",
            "scopes_supported": sorted(scopes.KNOWN),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code", "password", "client_credentials", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }
    )


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour PNG, made here so that no image file has to ship."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


AVATAR = _png(120, 120, (0x8C, 0x9B, 0xAB))
HEADER = _png(600, 200, (0xD9, 0xE1, 0xE8))


@router.get(AVATAR_PATH)
@reads_only
async def default_avatar() -> Response:
    return Response(AVATAR, media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})


@router.get(HEADER_PATH)
@reads_only
async def default_header() -> Response:
    return Response(HEADER, media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})
