"""Word lists for the demo world: names, bios, posts and comments (no Faker: no dependency)."""

from __future__ import annotations

from dataclasses import dataclass


def _listed(text: str, separator: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(separator))


FIRST_NAMES = _listed(
    "ada aisha alex amara ana arjun ben bruno camille carlos chen chloe dani david elena emeka emil eva "
    "farah felix grace hana hugo ines ivan jade jamal jonas julia kai kenji lara leo lina lucas maya mei "
    "mila nadia naomi nico nina noah olga omar oscar paula priya quinn rafa rosa ruth sam sara sven tariq "
    "tess theo uma vera wei yara yusuf zoe"
)

LAST_NAMES = _listed(
    "adeyemi alvarez berg bianchi costa dubois eriksen fischer garcia haddad hansen ito jensen kaur kim "
    "kowalski larsen lopez moreau murphy nakamura novak okafor olsen park patel petrov quinn rossi santos "
    "schmidt silva singh tanaka torres varga walsh weber yilmaz zhang"
)

ADJECTIVES = _listed(
    "amber brave calm clever cosmic dusty early fuzzy gentle golden happy hidden lazy little lucky misty "
    "quiet rapid rusty salty silver sleepy sunny tiny urban velvet wild windy"
)

NOUNS = _listed(
    "badger bean comet crow fern fox harbor heron kettle lantern maple meadow moth otter pebble pine "
    "raven river robin spark sparrow teapot tiger tram walrus willow"
)

ROLES = _listed(
    "Nurse, Backend developer, Science teacher, Barista, Architect, PhD student, Product designer, "
    "Bus driver, Librarian, Data analyst, Carpenter, Journalist, Pharmacist, Chef, Physiotherapist, "
    "Sound engineer, Translator, Electrician, Student, Retired engineer, Illustrator, Vet, Baker, "
    "Firefighter, Marine biologist, Accountant, Florist, Game developer",
    ", ",
)

CITIES = _listed(
    "Lisbon, Lagos, Osaka, Berlin, Toronto, Nairobi, Lyon, Austin, Seoul, Porto, Oslo, Melbourne, Bogotá, "
    "Kraków, Glasgow, Pune, Montréal, Cape Town, Utrecht, Valparaíso, Tbilisi, Hanoi, Dublin, Ljubljana",
    ", ",
)

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Topic:
    """An interest: how a bio mentions it, what it has, and what people post about it."""

    interest: str
    things: tuple[str, ...]
    posts: tuple[str, ...]
    hashtag: str


# Post templates may use {thing}, {city}, {day} and {n}.
TOPICS = (
    Topic(
        "coffee",
        ("a washed Ethiopian", "an oat flat white", "the new grinder", "a cold brew", "a V60"),
        (
            "Tried {thing} this morning and I finally get what people mean by 'fruity'.",
            "Hot take: {thing} beats anything from the big chains.",
            "Found a tiny café in {city} that does {thing} properly. Going back {day}.",
            "Day {n} of dialing in {thing}. Getting closer.",
        ),
        "coffee",
    ),
    Topic(
        "running",
        ("a 10k", "hill repeats", "an easy 5k", "the long run", "intervals"),
        (
            "Did {thing} before work. Legs are not speaking to me.",
            "{n} km this week. Slow and steady still counts.",
            "Rain in {city} this morning, did {thing} anyway. No regrets.",
            "Signed up for a half marathon. Someone talk me out of it.",
        ),
        "running",
    ),
    Topic(
        "cooking",
        ("a mushroom risotto", "shakshuka", "homemade dumplings", "sourdough focaccia", "a lentil curry"),
        (
            "Made {thing} tonight and it actually looked like the photo.",
            "Recipe for {thing}: more garlic than you think. Then more.",
            "{day} is for {thing}. Fight me.",
            "Attempt number {n} at {thing}. The smoke alarm approves.",
        ),
        "cooking",
    ),
    Topic(
        "gardening",
        ("the tomatoes", "a fig cutting", "the basil", "my balcony chillies", "the compost heap"),
        (
            "Update on {thing}: alive, thriving, slightly smug.",
            "Spent all of {day} with {thing}. Best therapy there is.",
            "{n} snails relocated from {thing} this evening. Diplomacy failed.",
            "If anyone in {city} wants seedlings, I overdid it again.",
        ),
        "gardening",
    ),
    Topic(
        "books",
        ("a Le Guin novel", "a 900-page fantasy brick", "a book about fungi", "some Tove Jansson", "a memoir"),
        (
            "Finished {thing} on the train and missed my stop. Worth it.",
            "Currently reading {thing}. No spoilers please.",
            "Book {n} of the year done. Recommendations welcome.",
            "The library in {city} has a shelf of staff picks and it has ruined my budget.",
        ),
        "reading",
    ),
    Topic(
        "music",
        ("an old jazz record", "a live album", "the new synth", "a film soundtrack", "a garage band demo"),
        (
            "Can't stop listening to {thing}. Send help (or more like it).",
            "Small gig in {city} tonight, {n} people, best show of the year.",
            "Spent {day} playing with {thing} and wrote exactly four bars.",
            "Headphones on, {thing} playing, inbox ignored.",
        ),
        "music",
    ),
    Topic(
        "photography",
        ("golden hour", "a 35mm film roll", "the harbour at dawn", "street portraits", "long exposures"),
        (
            "Got back {thing} from the lab. {n} keepers out of 36 is a record.",
            "{city} in fog this morning. Perfect for {thing}.",
            "Lesson of the day: charge the battery before chasing {thing}.",
            "Out on {day} for {thing}. The light did its thing.",
        ),
        "photography",
    ),
    Topic(
        "cycling",
        ("the commute", "a gravel loop", "a flat tyre", "the new bike lane", "a century ride"),
        (
            "{thing} today: {n} km, one very confused goose.",
            "Whoever designed {thing} in {city}: thank you.",
            "Fixed {thing} at the roadside in under ten minutes. Personal best.",
            "{day} plan: {thing} and a pastry at the halfway point.",
        ),
        "cycling",
    ),
    Topic(
        "programming",
        ("a flaky test", "a Postgres query plan", "a race condition", "the legacy code", "a tiny CLI tool"),
        (
            "Spent {n} hours on {thing}. It was a missing index.",
            "Shipped {thing} today. Nobody noticed, which is the goal.",
            "Reminder: {thing} is just a bug that hasn't introduced itself yet.",
            "Meetup in {city} on {day} about {thing}. Who's coming?",
        ),
        "programming",
    ),
    Topic(
        "travel",
        ("a night train", "a ferry crossing", "a street food market", "a mountain hut", "a tiny museum"),
        (
            "Took {thing} out of {city}. Slow travel is the best travel.",
            "Highlight of the trip so far: {thing}. Also the bakery next door.",
            "{n} hours on {thing} and I would do it again tomorrow.",
            "Back home after {day} at {thing}. Already planning the next one.",
        ),
        "travel",
    ),
    Topic(
        "pets",
        ("the cat", "our old dog", "the foster kittens", "a very loud parrot", "the rescue greyhound"),
        (
            "{thing} has claimed my chair. I work from the floor now.",
            "Vet says {thing} is 'a healthy weight for a slightly larger animal'.",
            "{n} zoomies before breakfast. {thing} is thriving.",
            "If you see {thing} on your street in {city}, no you didn't.",
        ),
        "pets",
    ),
    Topic(
        "football",
        ("the derby", "a last-minute equaliser", "Sunday league", "the away game", "penalties"),
        (
            "What a finish to {thing}. Still shaking.",
            "{thing} tonight. {n} years a supporter, still not used to it.",
            "Played {thing} on {day}. We lost, the oranges were excellent.",
            "Best pub in {city} to watch {thing}? Asking for me.",
        ),
        "football",
    ),
    Topic(
        "films",
        ("an old noir", "a Ghibli rewatch", "a three-hour epic", "a festival short", "a terrible horror film"),
        (
            "Watched {thing} last night. Thinking about it all day.",
            "{day} film club pick: {thing}. Snacks are mandatory.",
            "The cinema in {city} is showing {thing} on 35mm. See you there.",
            "Film {n} of my watchlist: {thing}. Four stars, would cry again.",
        ),
        "films",
    ),
    Topic(
        "climbing",
        ("a V4 problem", "the bouldering gym", "a multipitch route", "a crimpy overhang", "new climbing shoes"),
        (
            "Finally sent {thing} after {n} sessions. Fingers destroyed.",
            "{day} session at {thing}. Chalk everywhere, joy everywhere.",
            "Anyone in {city} want to belay on {day}?",
            "{thing} is humbling me and I keep coming back.",
        ),
        "climbing",
    ),
    Topic(
        "astronomy",
        ("Saturn's rings", "a meteor shower", "the Andromeda galaxy", "a lunar eclipse", "the Milky Way"),
        (
            "Saw {thing} through a borrowed telescope. Genuinely gasped.",
            "Clear skies over {city} tonight. Going out for {thing}.",
            "{n} shooting stars counted before the clouds won.",
            "Reminder for {day}: look up. {thing} is worth it.",
        ),
        "astronomy",
    ),
)

# Said about nothing in particular, by anyone.
EVERYDAY_POSTS = (
    "Good morning from {city}. The tram is late and the sun is out.",
    "{day} again? Where did the week go.",
    "Small win today: replied to every email. Big win: the bakery had cinnamon buns.",
    "Tidied my desk and now I can't find anything.",
    "Whoever left flowers on the bench by the river in {city}: thank you.",
    "Hot chocolate season has officially begun.",
    "Unpopular opinion: {day} is the best day of the week.",
    "Slept {n} hours and feel like a new person. Highly recommend sleep.",
    "Learning a new language. Today's sentence: 'the cat is on the table'.",
    "Anyone else's neighbour learning the trumpet, or just mine?",
)

BIOS = (
    "{role} in {city}. Into {a} and {b}.",
    "{role}. Mostly here for {a}.",
    "{a}, {b} and {c}. Opinions my own.",
    "{role} by day, {a} by night. {city}.",
    "Posting about {a}, {b} and whatever else. Based in {city}.",
    "{city} / {role} / {a}",
    "Probably thinking about {a}. {role}.",
)

COMMENTS = (
    "So true!",
    "Love this.",
    "This made my day.",
    "Haha, exactly.",
    "Where is this?",
    "Need the recipe, please.",
    "Same here!",
    "Congrats, well deserved.",
    "Wait, how?",
    "Saving this for later.",
    "Couldn't agree more.",
    "Oh no, I feel this.",
    "Beautiful.",
    "Tell me more!",
    "I was there too!",
    "Respect.",
    "This is the content I'm here for.",
    "Ha! Been there.",
    "Okay, now I want to try it.",
    "Underrated post.",
    "Wholesome.",
    "Noted for the weekend.",
    "Good luck!",
    "You've convinced me.",
    "Absolute classic.",
    "Ten out of ten.",
)
