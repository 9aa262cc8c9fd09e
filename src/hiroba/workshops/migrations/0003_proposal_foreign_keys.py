"""workshops → proposals by real foreign keys (issue 14.5).

The ids were kept in BigIntegerFields ``proposal_call_id`` / ``proposal_id``; they become
ForeignKeys on the same columns, so existing rows keep their values: first the columns are
pinned (db_column), then the fields renamed (state only, the column stays), then altered to
ForeignKey (adds the constraint and index; PROTECT).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("proposals", "0002_relationship_codes"),
        ("workshops", "0002_fold_keys"),
    ]

    operations = [
        migrations.AlterField(
            model_name="programme", name="proposal_call_id",
            field=models.BigIntegerField("提案募集ID", null=True, blank=True, editable=False,
                                         db_column="proposal_call_id"),
        ),
        migrations.RenameField(model_name="programme", old_name="proposal_call_id", new_name="proposal_call"),
        migrations.AlterField(
            model_name="programme", name="proposal_call",
            field=models.ForeignKey(blank=True, db_column="proposal_call_id", editable=False, null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="proposals.call", verbose_name="提案募集"),
        ),
        migrations.AlterField(
            model_name="output", name="proposal_id",
            field=models.BigIntegerField("提案ID", null=True, blank=True, editable=False, db_column="proposal_id"),
        ),
        migrations.RenameField(model_name="output", old_name="proposal_id", new_name="proposal"),
        migrations.AlterField(
            model_name="output", name="proposal",
            field=models.ForeignKey(blank=True, db_column="proposal_id", editable=False, null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="proposals.proposal", verbose_name="提案"),
        ),
    ]
