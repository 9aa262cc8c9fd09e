"""The voters' verifications are hiroba.accounts' (accounts.ResidentVerification, the same table
and rows): in the state only, the participations point at it and proposals.VoterVerification goes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_residentverification"),
        ("proposals", "0002_relationship_codes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="participation",
                    name="verification",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="participations", to="accounts.residentverification"),
                ),
                migrations.DeleteModel(name="VoterVerification"),
            ],
            database_operations=[],
        ),
    ]
