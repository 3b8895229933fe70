from alembic import context
from sqlalchemy import create_engine, pool

from townsquare.db.models import Base

config = context.config
engine = create_engine(config.attributes["database_url"], poolclass=pool.NullPool)

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
