from alembic import context
from sqlalchemy import create_engine, pool, text

from townsquare.db.models import Base

config = context.config


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    # The job queue's tables belong to procrastinate (migration 0003), not to our models.
    return not (type_ == "table" and name is not None and name.startswith("procrastinate_"))


engine = create_engine(config.attributes["database_url"], poolclass=pool.NullPool)

with engine.connect() as connection:
    context.configure(
        connection=connection, target_metadata=Base.metadata, compare_type=True, include_name=include_name
    )
    with context.begin_transaction():
        # Several processes may start at once (API replicas each run `townsquare run`): one
        # migrates while the others wait here, then find nothing left to do.
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('townsquare-migrations'))"))
        context.run_migrations()
engine.dispose()
