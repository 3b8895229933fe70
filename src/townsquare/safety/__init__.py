"""Safety: blocks, mutes, reports and moderation.

A block stands between two accounts both ways: follows between them end and cannot be made
again, neither can like or comment on the other's posts, and neither sees the other's
profile, posts, comments or notifications. A mute is one-way and quiet: the muter's feed,
search, comments and notifications leave the muted account out. Reports go to moderators,
who remove content and suspend accounts (moderation.py), each action in the audit log. What
each of these hides is the visibility rule's to say (townsquare.visibility).
"""
