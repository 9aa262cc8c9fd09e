"""The stored verification (本人確認) becomes hiroba.accounts' — one per resident, for every module.

In the state only: the model that was proposals.VoterVerification is accounts.ResidentVerification,
on the same table with the same rows (proposals 0003 points the participations at it, accounts 0003
renames the table). Nothing is copied, so every existing row, and every row pointing at one, moves."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("proposals", "0002_relationship_codes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ResidentVerification",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("display_name", models.CharField(max_length=100, verbose_name="氏名")),
                        ("identity_key", models.CharField(blank=True, max_length=64, verbose_name="本人識別キー")),
                        ("residency", models.CharField(choices=[("resident", "在住"), ("worker", "在勤"), ("student", "在学")], max_length=8, verbose_name="区分")),
                        ("birth_date", models.DateField(blank=True, null=True, verbose_name="生年月日")),
                        ("method", models.CharField(choices=[("counter", "窓口で本人確認書類を確認"), ("oidc", "外部の本人確認サービス")], max_length=10, verbose_name="確認方法")),
                        ("verified_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="確認日時")),
                        ("revoked_at", models.DateTimeField(blank=True, null=True, verbose_name="取消日時")),
                        ("user", models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="resident_verification", to=settings.AUTH_USER_MODEL, verbose_name="アカウント")),
                        ("verified_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="確認した職員")),
                    ],
                    options={
                        "verbose_name": "本人確認",
                        "verbose_name_plural": "本人確認",
                        "ordering": ["pk"],
                        "db_table": "proposals_voterverification",
                        "constraints": [
                            models.UniqueConstraint(condition=models.Q(("identity_key", ""), _negated=True), fields=("identity_key",), name="proposals_verification_one_per_person"),
                            models.CheckConstraint(condition=models.Q(("user__isnull", False), models.Q(("identity_key", ""), _negated=True), _connector="OR"), name="proposals_verification_identifies"),
                            models.CheckConstraint(condition=models.Q(models.Q(("method", "counter"), _negated=True), ("verified_by__isnull", False), _connector="OR"), name="proposals_counter_verification_has_clerk"),
                            models.CheckConstraint(condition=models.Q(("residency__in", ["resident", "worker", "student"])), name="proposals_verification_residency"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
