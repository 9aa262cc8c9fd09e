"""The table of Django's database cache (settings.CACHES when HIROBA_CACHE_URL is not set).

Created whatever the current cache setting, so that switching from Redis back to the database
cache needs no extra step; `createcachetable` would create it only for a configured cache.
"""

from django.db import migrations

TABLE = "hiroba_cache"  # settings.CACHE_TABLE


def create(apps, schema_editor):
    from django.core.management.commands.createcachetable import Command

    command = Command()
    command.verbosity = 0  # set by handle(), which this bypasses
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def drop(apps, schema_editor):
    if TABLE in schema_editor.connection.introspection.table_names():
        schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("core", "0003_audit_pending")]

    operations = [migrations.RunPython(create, drop)]
