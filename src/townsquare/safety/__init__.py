"""Safety: blocks (for now; mutes, reports and moderation are to come).

A block stands between two accounts both ways: follows between them end and cannot be made
again, neither can like or comment on the other's posts, and neither sees the other's
profile, posts, comments or notifications (the visibility rule, townsquare.visibility).
"""
