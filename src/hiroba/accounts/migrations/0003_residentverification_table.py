"""accounts.ResidentVerification on its own table (renamed with its rows; the participations'
foreign keys follow), its constraints named for accounts, and a blank relationship allowed for
a verification by the verifier, which does not vouch for it (the counter always records it).

Going back fails only if such a verification without a relationship has been stored since."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_residentverification"),
        ("proposals", "0003_verification_to_accounts"),
    ]

    operations = [
        migrations.AlterModelTable(name="residentverification", table=None),
        migrations.RemoveConstraint(model_name="residentverification", name="proposals_verification_one_per_person"),
        migrations.RemoveConstraint(model_name="residentverification", name="proposals_verification_identifies"),
        migrations.RemoveConstraint(model_name="residentverification", name="proposals_counter_verification_has_clerk"),
        migrations.RemoveConstraint(model_name="residentverification", name="proposals_verification_residency"),
        migrations.AlterField(
            model_name="residentverification",
            name="residency",
            field=models.CharField(blank=True, choices=[("resident", "在住"), ("worker", "在勤"), ("student", "在学")], max_length=8, verbose_name="区分"),
        ),
        migrations.AddConstraint(
            model_name="residentverification",
            constraint=models.UniqueConstraint(condition=models.Q(("identity_key", ""), _negated=True), fields=("identity_key",), name="accounts_verification_one_per_person"),
        ),
        migrations.AddConstraint(
            model_name="residentverification",
            constraint=models.CheckConstraint(condition=models.Q(("user__isnull", False), models.Q(("identity_key", ""), _negated=True), _connector="OR"), name="accounts_verification_identifies"),
        ),
        migrations.AddConstraint(
            model_name="residentverification",
            constraint=models.CheckConstraint(condition=models.Q(models.Q(("method", "counter"), _negated=True), ("verified_by__isnull", False), _connector="OR"), name="accounts_counter_verification_has_clerk"),
        ),
        migrations.AddConstraint(
            model_name="residentverification",
            constraint=models.CheckConstraint(condition=models.Q(("residency__in", ["", "resident", "worker", "student"])), name="accounts_verification_residency"),
        ),
        migrations.AddConstraint(
            model_name="residentverification",
            constraint=models.CheckConstraint(condition=models.Q(models.Q(("method", "counter"), _negated=True), models.Q(("residency", ""), _negated=True), _connector="OR"), name="accounts_counter_verification_has_residency"),
        ),
    ]
