"""The rule's two forms (townsquare.visibility) agree: `hidden_sql`, hashed over the viewer's
blocks for statements about many accounts, and `hidden_account_sql`, index probes for a
statement about one account, for every way an account can be hidden or not."""

from __future__ import annotations

import itertools

from fastapi import FastAPI
from sqlalchemy import text

from townsquare import visibility


async def test_both_forms_hide_the_same_accounts(app: FastAPI) -> None:
    async with app.state.database.engine.begin() as connection:
        ids = []
        for name in ("viewer", "blocked", "blocker", "both", "suspended", "plain"):
            created = await connection.execute(
                text(
                    "INSERT INTO user_account (email, username, hashed_password)"
                    " VALUES (:email, :name, 'x') RETURNING id"
                ),
                {"email": f"{name}@example.com", "name": f"rule_{name}"},
            )
            ids.append(created.scalar_one())
        viewer, blocked, blocker, both, suspended, plain = ids
        blocks = [(viewer, blocked), (blocker, viewer), (viewer, both), (both, viewer)]
        for pair in blocks:
            await connection.execute(
                text("INSERT INTO user_block (blocker_id, blocked_id) VALUES (:a, :b)"), {"a": pair[0], "b": pair[1]}
            )
        await connection.execute(text("UPDATE user_account SET suspended_at = now() WHERE id = :id"), {"id": suspended})
        for who, viewing in itertools.product(ids, [viewer, plain, None]):
            hashed = visibility.hidden_sql(":account", None if viewing is None else ":viewer")
            probed = visibility.hidden_account_sql(
                ":account", "user_account.suspended_at", None if viewing is None else ":viewer"
            )
            found = await connection.execute(
                text(f"SELECT {hashed}, {probed} FROM user_account WHERE id = :account"),  # noqa: S608
                {"account": who, "viewer": viewing},
            )
            one, other = found.one()
            assert one == other, (who, viewing)
        expected = {blocked, blocker, both, suspended}
        rows = await connection.execute(
            text(
                f"SELECT id FROM user_account WHERE id = ANY(:ids) AND "  # noqa: S608
                f"{visibility.hidden_account_sql('user_account.id', 'user_account.suspended_at')}"
            ),
            {"ids": ids, "viewer": viewer},
        )
        assert {row[0] for row in rows} == expected
