"""Alembic environment: runs on the connection ``storage.db.migrate`` hands it."""

from alembic import context

from storage.models import Base, outside_the_orm

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  include_name=outside_the_orm)
with context.begin_transaction():
    context.run_migrations()
