"""Alembic environment: runs against the engine handed over in `config.attributes`."""

from alembic import context
from sqlalchemy import create_engine

from gis.store.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # the `alembic` command line: take the URL from the ini/-x option
    engine = create_engine(config.get_main_option("sqlalchemy.url"))


def _include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    # PostGIS and tiger/topology tables are not ours.
    return not (type_ == "table" and reflected and compare_to is None)


with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, include_object=_include_object)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
