"""Pending audit entries that cannot vanish unseen.

Each pending entry takes the next number of a gapless counter and carries a MAC keyed outside
the database; both move with it into the chain. Triggers refuse deleting a pending entry that
is not in the chain yet (with the same MAC), emptying the table, and lowering or removing the
counter. On PostgreSQL `core_next_pending_audit_seq()` takes a number inside the writer's own
statement (the one-statement submission path).
"""

import importlib

from django.db import migrations, models
from django.db.models import Q

SQLITE_UP = [
    """CREATE TRIGGER core_pendingauditentry_no_delete BEFORE DELETE ON core_pendingauditentry
       WHEN NOT EXISTS (SELECT 1 FROM core_auditentry
                        WHERE pending_seq = OLD.pending_seq AND pending_mac = OLD.mac)
       BEGIN SELECT RAISE(ABORT, 'a pending audit entry is removed only once it is linked into the chain'); END""",
    """CREATE TRIGGER core_pendingauditcounter_only_up BEFORE UPDATE ON core_pendingauditcounter
       WHEN NEW.last_seq < OLD.last_seq OR NEW.id <> OLD.id
       BEGIN SELECT RAISE(ABORT, 'the pending audit counter only goes up'); END""",
    """CREATE TRIGGER core_pendingauditcounter_no_delete BEFORE DELETE ON core_pendingauditcounter
       BEGIN SELECT RAISE(ABORT, 'the pending audit counter cannot be removed'); END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS core_pendingauditentry_no_delete",
    "DROP TRIGGER IF EXISTS core_pendingauditcounter_only_up",
    "DROP TRIGGER IF EXISTS core_pendingauditcounter_no_delete",
]
POSTGRES_FUNCTIONS = [
    """CREATE OR REPLACE FUNCTION core_pendingauditentry_guard_delete() RETURNS trigger AS $$
       BEGIN
         IF NOT EXISTS (SELECT 1 FROM core_auditentry
                        WHERE pending_seq = OLD.pending_seq AND pending_mac = OLD.mac) THEN
           RAISE EXCEPTION 'a pending audit entry is removed only once it is linked into the chain';
         END IF;
         RETURN OLD;
       END; $$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE FUNCTION core_pendingauditcounter_guard() RETURNS trigger AS $$
       BEGIN
         IF TG_OP <> 'UPDATE' THEN
           RAISE EXCEPTION 'the pending audit counter cannot be removed';
         END IF;
         IF NEW.last_seq < OLD.last_seq OR NEW.id <> OLD.id THEN
           RAISE EXCEPTION 'the pending audit counter only goes up';
         END IF;
         RETURN NEW;
       END; $$ LANGUAGE plpgsql""",
    # The next number, inside the caller's statement; the row stays locked until it commits.
    """CREATE OR REPLACE FUNCTION core_next_pending_audit_seq() RETURNS bigint AS $$
         INSERT INTO core_pendingauditcounter (id, last_seq) VALUES (1, 1)
         ON CONFLICT (id) DO UPDATE SET last_seq = core_pendingauditcounter.last_seq + 1
         RETURNING last_seq
       $$ LANGUAGE sql VOLATILE""",
]
POSTGRES_FUNCTIONS_DOWN = [
    "DROP FUNCTION IF EXISTS core_next_pending_audit_seq()",
    "DROP FUNCTION IF EXISTS core_pendingauditcounter_guard()",
    "DROP FUNCTION IF EXISTS core_pendingauditentry_guard_delete()",
]
POSTGRES_UP = [
    """CREATE TRIGGER core_pendingauditentry_no_delete BEFORE DELETE ON core_pendingauditentry
       FOR EACH ROW EXECUTE FUNCTION core_pendingauditentry_guard_delete()""",
    """CREATE TRIGGER core_pendingauditentry_no_truncate BEFORE TRUNCATE ON core_pendingauditentry
       FOR EACH STATEMENT EXECUTE FUNCTION core_pendingauditcounter_guard()""",
    """CREATE TRIGGER core_pendingauditcounter_guard BEFORE UPDATE OR DELETE ON core_pendingauditcounter
       FOR EACH ROW EXECUTE FUNCTION core_pendingauditcounter_guard()""",
    """CREATE TRIGGER core_pendingauditcounter_no_truncate BEFORE TRUNCATE ON core_pendingauditcounter
       FOR EACH STATEMENT EXECUTE FUNCTION core_pendingauditcounter_guard()""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS core_pendingauditentry_no_delete ON core_pendingauditentry",
    "DROP TRIGGER IF EXISTS core_pendingauditentry_no_truncate ON core_pendingauditentry",
    "DROP TRIGGER IF EXISTS core_pendingauditcounter_guard ON core_pendingauditcounter",
    "DROP TRIGGER IF EXISTS core_pendingauditcounter_no_truncate ON core_pendingauditcounter",
]


def _pending_0003():
    return importlib.import_module("hiroba.core.migrations.0003_audit_pending")


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)
    return run


def number_existing(apps, schema_editor):
    """Entries pending at the upgrade get numbers and MACs now (in the order they were written)."""
    from hiroba.core import audit  # the MAC as the running code computes it

    Pending = apps.get_model("core", "PendingAuditEntry")
    Counter = apps.get_model("core", "PendingAuditCounter")
    rows = list(Pending.objects.order_by("id"))
    vendor = schema_editor.connection.vendor
    if rows:
        # The UPDATE trigger of 0003 refuses changes: lift it for this one numbering.
        if vendor == "postgresql":
            schema_editor.execute("ALTER TABLE core_pendingauditentry DISABLE TRIGGER core_pendingauditentry_no_update")
        else:
            schema_editor.execute("DROP TRIGGER IF EXISTS core_pendingauditentry_no_update")
        for n, row in enumerate(rows, start=1):
            nonce = audit._new_nonce(object_covered=True, seq_covered=True)
            values = {name: getattr(row, name) for name in audit._CONTENT}
            Pending.objects.filter(id=row.id).update(pending_seq=n, nonce=nonce,
                                                     mac=audit.pending_mac(values, nonce, n))
        if vendor == "postgresql":
            schema_editor.execute("ALTER TABLE core_pendingauditentry ENABLE TRIGGER core_pendingauditentry_no_update")
    Counter.objects.create(id=1, last_seq=len(rows))


def restore_update_trigger(apps, schema_editor):
    """SQLite rebuilt the table to make the new columns NOT NULL, dropping its triggers."""
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS core_pendingauditentry_no_update")
        for sql in _pending_0003().SQLITE_UP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_cache_table")]

    operations = [
        migrations.CreateModel(
            name="PendingAuditCounter",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("last_seq", models.BigIntegerField(default=0)),
            ],
            options={
                "verbose_name": "監査ログ（連結待ち）の通番",
                "constraints": [models.CheckConstraint(condition=Q(id=1), name="audit_pending_counter_single_row")],
            },
        ),
        # Nullable: SQLite adds them in place, keeping the chain table and its triggers as they are.
        migrations.AddField(
            model_name="auditentry", name="pending_seq",
            field=models.BigIntegerField(blank=True, null=True, verbose_name="連結待ちの通番"),
        ),
        migrations.AddField(
            model_name="auditentry", name="pending_nonce",
            field=models.CharField(blank=True, max_length=34, null=True, verbose_name="連結待ちのノンス"),
        ),
        migrations.AddField(
            model_name="auditentry", name="pending_mac",
            field=models.CharField(blank=True, max_length=64, null=True, verbose_name="連結待ちのMAC"),
        ),
        migrations.AddConstraint(
            model_name="auditentry",
            constraint=models.UniqueConstraint(condition=Q(pending_seq__isnull=False), fields=("pending_seq",),
                                               name="audit_entry_pending_seq_once"),
        ),
        migrations.AddField(
            model_name="pendingauditentry", name="pending_seq",
            field=models.BigIntegerField(null=True, verbose_name="通番"),
        ),
        migrations.AddField(
            model_name="pendingauditentry", name="nonce",
            field=models.CharField(max_length=34, null=True, verbose_name="ノンス"),
        ),
        migrations.AddField(
            model_name="pendingauditentry", name="mac",
            field=models.CharField(max_length=64, null=True, verbose_name="MAC"),
        ),
        migrations.RunPython(number_existing, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="pendingauditentry", name="pending_seq",
            field=models.BigIntegerField(unique=True, verbose_name="通番"),
        ),
        migrations.AlterField(
            model_name="pendingauditentry", name="nonce",
            field=models.CharField(max_length=34, unique=True, verbose_name="ノンス"),
        ),
        migrations.AlterField(
            model_name="pendingauditentry", name="mac",
            field=models.CharField(max_length=64, verbose_name="MAC"),
        ),
        migrations.RunPython(restore_update_trigger, migrations.RunPython.noop),
        migrations.RunPython(_run({"postgresql": POSTGRES_FUNCTIONS}), _run({"postgresql": POSTGRES_FUNCTIONS_DOWN})),
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        ),
    ]
