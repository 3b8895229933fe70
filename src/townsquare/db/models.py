"""Every model, imported in one place so Alembic and tests see the whole schema."""

from townsquare.auth.models import RefreshSession, RefreshToken
from townsquare.db.base import Base
from townsquare.interactions.models import Comment, PostLike
from townsquare.mastodon.models import StatusIdempotency
from townsquare.notifications.models import Notification
from townsquare.oauth.models import OAuthApp, OAuthCode, OAuthToken
from townsquare.posts.models import Post
from townsquare.safety.models import ModerationAction, Report, UserBlock, UserMute
from townsquare.search.models import PostTerm
from townsquare.users.models import Follow, UserAccount

__all__ = [
    "Base",
    "Comment",
    "Follow",
    "ModerationAction",
    "Notification",
    "OAuthApp",
    "OAuthCode",
    "OAuthToken",
    "Post",
    "PostLike",
    "PostTerm",
    "RefreshSession",
    "RefreshToken",
    "Report",
    "StatusIdempotency",
    "UserAccount",
    "UserBlock",
    "UserMute",
]
