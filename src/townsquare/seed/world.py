"""The demo world, made in memory from one seeded random generator: same seed, same world.

Who follows whom, who posts and who gets liked all follow a Zipf-like popularity: a few
accounts are followed by most people and collect most of the likes, most accounts have a
handful of followers. Every row gets its time first and its id from that time, the way
`next_id()` makes them, so the feed (ordered and paged by id) shows the past in order.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from townsquare.db.ids import ID_EPOCH_MS
from townsquare.notifications.service import dedupe_key
from townsquare.seed import words

SECOND = 1000
DAY = 86_400 * SECOND
# Per account, on average: what scales with --users.
POSTS_PER_USER = 8
LIKES_PER_USER = 25
FOLLOWS_PER_USER = 25
# Zipf exponent of popularity: rank r is followed and liked in proportion to 1 / r**s.
POPULARITY_EXPONENT = 1.1
# Notifications older than this are already read; the newest ones make an unread count.
READ_AFTER = 2 * DAY


@dataclass
class User:
    id: int
    username: str
    email: str
    bio: str
    at: int  # milliseconds since the Unix epoch, like every time here
    popularity: float
    topics: tuple[words.Topic, ...]
    city: str
    followers_count: int = 0
    following_count: int = 0
    posts_count: int = 0


@dataclass
class Post:
    id: int
    author: User
    content: str
    at: int
    score: float
    like_count: int = 0
    comment_count: int = 0
    likers: list[User] = field(default_factory=list)


@dataclass(frozen=True)
class Follow:
    id: int
    follower: User
    followed: User
    at: int


@dataclass(frozen=True)
class Like:
    id: int
    post: Post
    user: User
    at: int


@dataclass(frozen=True)
class Comment:
    id: int
    post: Post
    author: User
    content: str
    at: int


@dataclass(frozen=True)
class Notification:
    id: int
    recipient: User
    actor: User
    type: str
    post: Post | None
    comment: Comment | None
    dedupe_key: str
    read: bool
    at: int


@dataclass
class World:
    demo: User
    users: list[User] = field(default_factory=list)
    follows: list[Follow] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    likes: list[Like] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)


def moment(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


class IdMaker:
    """Ids as next_id() makes them, for a time in the past: (ms since 2026-01-01) << 16 | sequence.

    The low bits continue the database's own sequence, so they differ from those of rows made
    in the same millisecond earlier (unless 65,536 ids were made since)."""

    def __init__(self, sequence_start: int) -> None:
        self._sequence = sequence_start
        self._made: set[int] = set()

    def at(self, ms: int) -> int:
        if ms < ID_EPOCH_MS:
            raise ValueError("the seed's times must be after 2026-01-01, the id epoch")
        while True:
            candidate = ((ms - ID_EPOCH_MS) << 16) | (self._sequence % 65_536)
            self._sequence += 1
            if candidate not in self._made:
                self._made.add(candidate)
                return candidate


def build(
    *,
    users: int,
    seed: int,
    now_ms: int,
    days: int,
    ids: IdMaker,
    taken: Callable[[str], bool] = lambda name: False,
) -> World:
    """A world of `users` accounts (one of them the demo account) active over the past `days`.

    `taken(name)` says whether a username (or its email) already exists: those are avoided."""
    if users < 2:
        raise ValueError("a world needs at least 2 users")
    rng = random.Random(seed)  # noqa: S311 - demo data, reproducible on purpose
    window = days * DAY
    # Everyone joined before the window, so every like and comment comes after its people.
    window_start = now_ms - window
    world = _people(rng, users, taken, window_start, ids)
    _follows(rng, world, now_ms, ids)
    _posts(rng, world, now_ms, window, ids)
    _likes(rng, world, now_ms, ids)
    _comments(rng, world, now_ms, ids)
    _notifications(world, now_ms, ids)
    return world


def _people(rng: random.Random, count: int, taken: Callable[[str], bool], before: int, ids: IdMaker) -> World:
    chosen: set[str] = set()

    def free(name: str) -> bool:
        return name.lower() not in chosen and not taken(name.lower())

    demo_name = next(name for name in ("demo", *(f"demo{n}" for n in range(2, 10_000))) if free(name))
    chosen.add(demo_name)
    names = [demo_name]
    while len(names) < count:
        name = _username(rng)
        if not free(name):
            name = f"{name[:24]}{rng.randint(2, 99_999)}"
        if free(name):
            chosen.add(name)
            names.append(name)
    # Popularity by rank; the demo account is well followed but not the star of the show.
    ranks = list(range(1, count + 1))
    rng.shuffle(ranks)
    demo_rank = min(count, max(3, count // 20))
    ranks[ranks.index(demo_rank)] = ranks[0]
    ranks[0] = demo_rank
    joined = [before - rng.randint(1, 60 * DAY) for _ in range(count)]
    people = []
    for name, rank, at in zip(names, ranks, joined, strict=True):
        topics = tuple(rng.sample(words.TOPICS, rng.randint(1, 3)))
        city = rng.choice(words.CITIES)
        bio = _bio(rng, topics, city) if rng.random() < 0.9 else ""
        if name == demo_name:
            bio = "The demo account of this Townsquare: look around, post, like, follow."
        person = User(
            id=ids.at(at),
            username=name,
            email=f"{name.lower()}@example.com",
            bio=bio,
            at=at,
            popularity=1 / rank**POPULARITY_EXPONENT,
            topics=topics,
            city=city,
        )
        people.append(person)
    world = World(demo=people[0])
    world.users = sorted(people, key=lambda person: person.id)
    return world


def _username(rng: random.Random) -> str:
    first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
    adjective, noun = rng.choice(words.ADJECTIVES), rng.choice(words.NOUNS)
    style = rng.randrange(6)
    if style == 0:
        return f"{first}_{last}"
    if style == 1:
        return f"{first}{last}"
    if style == 2:
        return f"{first}_{noun}"
    if style == 3:
        return f"{adjective}_{noun}"
    if style == 4:
        return f"{first}{rng.randint(1, 99)}"
    return f"{first[0]}{last}"


def _bio(rng: random.Random, topics: Sequence[words.Topic], city: str) -> str:
    interests = [topic.interest for topic in topics]
    interests += [topic.interest for topic in rng.sample(words.TOPICS, 6) if topic not in topics]
    a, b, c = interests[:3]
    role = rng.choice(words.ROLES)
    return rng.choice(words.BIOS).format(role=role, city=city, a=a, b=b, c=c)


def _weighted_distinct(
    rng: random.Random, population: Sequence[int], cumulative: Sequence[float], k: int, exclude: set[int]
) -> list[int]:
    """Up to `k` distinct items drawn by weight (rejection: weights this skewed repeat a lot)."""
    picked: list[int] = []
    seen = set(exclude)
    for _ in range(8):
        if len(picked) >= k:
            break
        for item in rng.choices(population, cum_weights=cumulative, k=4 * (k - len(picked))):
            if item not in seen:
                seen.add(item)
                picked.append(item)
                if len(picked) == k:
                    break
    return picked


def _follows(rng: random.Random, world: World, now: int, ids: IdMaker) -> None:
    people = world.users
    everyone = list(range(len(people)))
    cumulative = list(accumulate(person.popularity for person in people))
    typical = min(FOLLOWS_PER_USER, max(1, (len(people) - 1) // 3))
    for index, person in enumerate(people):
        if person is world.demo:
            # Enough accounts for a feed that is full at once, most of them the popular ones.
            wanted = min(len(people) - 1, max(20, min(100, len(people) // 4)))
        else:
            wanted = min(len(people) - 1, max(1, round(typical * rng.lognormvariate(-0.25, 0.7))))
        for other in _weighted_distinct(rng, everyone, cumulative, wanted, {index}):
            followed = people[other]
            since = max(person.at, followed.at)
            at = since + rng.randint(1, now - since)
            world.follows.append(Follow(ids.at(at), person, followed, at))
            person.following_count += 1
            followed.followers_count += 1


def _posts(rng: random.Random, world: World, now: int, window: int, ids: IdMaker) -> None:
    star = sorted(person.popularity for person in world.users)[-max(1, len(world.users) // 20)]
    for person in world.users:
        if person is world.demo:
            count = 6
        else:
            count = round(POSTS_PER_USER * rng.lognormvariate(-0.4, 0.9) * (1.5 if person.popularity >= star else 1))
        for _ in range(min(count, 5 * POSTS_PER_USER)):
            # More posts lately than weeks ago; none in the last minute.
            at = now - 60 * SECOND - int((window - 60 * SECOND) * rng.random() ** 1.4)
            score = person.popularity**0.8 * rng.lognormvariate(0, 0.8)
            world.posts.append(Post(ids.at(at), person, _post_text(rng, person), at, score))
            person.posts_count += 1
    world.posts.sort(key=lambda post: post.id)


def _post_text(rng: random.Random, person: User) -> str:
    values = {
        "city": person.city if rng.random() < 0.7 else rng.choice(words.CITIES),
        "day": rng.choice(words.DAYS),
        "n": rng.randint(2, 42),
    }
    if rng.random() < 0.2:
        return _sentence(rng.choice(words.EVERYDAY_POSTS).format(**values))
    topic = rng.choice(person.topics)
    text = _sentence(rng.choice(topic.posts).format(thing=rng.choice(topic.things), **values))
    return f"{text} #{topic.hashtag}" if rng.random() < 0.3 else text


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _likes(rng: random.Random, world: World, now: int, ids: IdMaker) -> None:
    posts = world.posts
    if not posts:
        return
    every_post = list(range(len(posts)))
    global_cumulative = list(accumulate(post.score for post in posts))
    by_author: dict[int, list[int]] = defaultdict(list)
    for index, post in enumerate(posts):
        by_author[post.author.id].append(index)
    followed: dict[int, list[int]] = defaultdict(list)
    for follow in world.follows:
        followed[follow.follower.id].extend(by_author[follow.followed.id])
    for person in world.users:
        own = set(by_author[person.id])
        wanted = min(len(posts) - len(own), round(LIKES_PER_USER * rng.lognormvariate(-0.5, 1.0)))
        # Mostly what their feed shows them, the rest from everywhere; better posts more often.
        pool = followed[person.id]
        pool_cumulative = list(accumulate(posts[index].score for index in pool))
        from_feed = _weighted_distinct(rng, pool, pool_cumulative, round(wanted * 0.7), own) if pool else []
        rest = wanted - len(from_feed)
        elsewhere = _weighted_distinct(rng, every_post, global_cumulative, rest, own | set(from_feed))
        for index in from_feed + elsewhere:
            post = posts[index]
            # Most likes come soon after the post.
            at = post.at + 1 + int((now - post.at - 1) * rng.random() ** 3)
            world.likes.append(Like(ids.at(at), post, person, at))
            post.like_count += 1
            post.likers.append(person)


def _comments(rng: random.Random, world: World, now: int, ids: IdMaker) -> None:
    for post in world.posts:
        count = _poisson(rng, 0.1 * post.like_count + 0.25)
        times = sorted(post.at + 1 + int((now - post.at - 1) * rng.random() ** 2) for _ in range(count))
        for position, at in enumerate(times):
            if position > 0 and rng.random() < 0.15:
                author = post.author  # answering the comments
            elif post.likers and rng.random() < 0.5:
                author = rng.choice(post.likers)
            else:
                author = rng.choice(world.users)
            comment = Comment(ids.at(at), post, author, rng.choice(words.COMMENTS), at)
            world.comments.append(comment)
            post.comment_count += 1


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: fine for the small means used here.
    limit, count, product = math.exp(-min(mean, 30.0)), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _notifications(world: World, now: int, ids: IdMaker) -> None:
    """What the worker would have made of every like, comment and follow (never for oneself)."""
    actions: list[tuple[int, str, User, User, int, Post | None, Comment | None]] = []
    actions += [(f.at, "follow", f.follower, f.followed, f.followed.id, None, None) for f in world.follows]
    actions += [(like.at, "like", like.user, like.post.author, like.post.id, like.post, None) for like in world.likes]
    actions += [(c.at, "comment", c.author, c.post.author, c.id, c.post, c) for c in world.comments]
    for at, type, actor, recipient, target_id, post, comment in sorted(actions, key=lambda action: action[0]):
        if actor is recipient:
            continue
        key = dedupe_key(type, actor.id, target_id)
        read = at < now - READ_AFTER
        world.notifications.append(Notification(ids.at(at), recipient, actor, type, post, comment, key, read, at))
