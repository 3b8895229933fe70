from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AfterValidator

from townsquare.auth.dependencies import OPTIONAL_AUTH, OptionalViewer
from townsquare.db.session import SessionDep, reads_only
from townsquare.kit.errors import problem_docs
from townsquare.kit.openapi import DocumentedRoute
from townsquare.kit.pagination import DEFAULT_LIMIT, CursorParam, Limit
from townsquare.kit.schemas import no_nul
from townsquare.search import service
from townsquare.search.schemas import SearchResults, SearchType

router = APIRouter(tags=["search"], route_class=DocumentedRoute)

MAX_QUERY = 100


def _trimmed(value: str) -> str:
    """The query without the spaces around it, which must leave 1 to 100 characters."""
    value = no_nul(value).strip()
    if not value:
        raise ValueError("must not be empty or only spaces")
    if len(value) > MAX_QUERY:
        raise ValueError(f"must be at most {MAX_QUERY} characters (spaces around it not counted)")
    return value


SearchText = Annotated[
    str,
    Query(
        min_length=1,
        max_length=4 * MAX_QUERY,  # a bound on the work before trimming; the limit is _trimmed's
        description="What to look for (1 to 100 characters, spaces around it not counted). Posts take "
        'web-search syntax: "a phrase", -excluded, this or that.',
    ),
    AfterValidator(_trimmed),
]


@router.get("/search", response_model=SearchResults, openapi_extra=OPTIONAL_AUTH, responses=problem_docs(401))
@reads_only
async def search(
    q: SearchText,
    session: SessionDep,
    viewer: OptionalViewer,
    kind: Annotated[
        SearchType, Query(alias="type", description="`all` gives the first page of each, without a cursor.")
    ] = "all",
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> SearchResults:
    """Find people (by username: exact, then prefix, then bio words, then a typo or two away)
    and posts (every word, English stemming, "phrases", -exclusions, or), best match first.

    Posts are ranked among the newest 1,000 that match; a query of exclusions only matches
    nothing. No token needed; with one, `followed_by_me` and `liked_by_me` come along."""
    return await service.search(
        session, q=q, kind=kind, cursor=cursor, limit=limit, viewer_id=viewer.id if viewer else None
    )
