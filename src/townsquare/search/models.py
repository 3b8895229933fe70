"""The search read model: an inverted list of the posts' words, newest post first.

The GIN index on `post.search_vector` finds every post with a word, in no useful order: a word
in 20,000 posts reads 20,000 rows to rank the newest 1,000, and the planner's guess of how many
there are (two words that often go together) decides between that and walking the newest posts.
`post_term` holds one row per (word, post), kept by triggers on `post` (migration 0006), so the
newest posts with a word are the first entries of its key range: a search reads only as many
rows as it ranks. It costs about 7 rows per post (550 MB for 1M posts, 40% of the database).
"""

from sqlalchemy import BigInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db.base import Base


class PostTerm(Base):
    __tablename__ = "post_term"

    # A lexeme of post.search_vector (English configuration: stemmed, no stop words), compared
    # byte by byte ("C"): only equality matters, and the key builds and searches faster.
    term: Mapped[str] = mapped_column(Text(collation="C"), primary_key=True)
    # No foreign key: the triggers delete a post's rows with it, by this table's key.
    post_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
