from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AfterValidator

from townsquare.auth.dependencies import OPTIONAL_AUTH, OptionalViewer
from townsquare.db.session import SessionDep
from townsquare.kit.errors import problem_docs
from townsquare.kit.pagination import DEFAULT_LIMIT, CursorParam, Limit
from townsquare.kit.schemas import no_nul
from townsquare.search import service
from townsquare.search.schemas import SearchResults, SearchType

router = APIRouter(tags=["search"])

SearchText = Annotated[
    str,
    Query(
        min_length=1,
        max_length=100,
        description='What to look for. Posts take web-search syntax: "a phrase", -excluded, this or that.',
    ),
    AfterValidator(no_nul),
]


@router.get("/search", response_model=SearchResults, openapi_extra=OPTIONAL_AUTH, responses=problem_docs(401))
async def search(
    q: SearchText,
    session: SessionDep,
    viewer: OptionalViewer,
    type: Annotated[SearchType, Query(description="`all` gives the first page of each, without a cursor.")] = "all",
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> SearchResults:
    """Find people (by username, exact, prefix or with a typo, and by the words of their bio)
    and posts (by their words, English stemming), best match first. No token needed."""
    return await service.search(
        session, q=q, type=type, cursor=cursor, limit=limit, viewer_id=viewer.id if viewer else None
    )
