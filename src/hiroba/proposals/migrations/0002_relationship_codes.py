"""The voter's relationship to the ward uses hiroba.accounts' codes (resident, worker, student;
formerly live, work, study), in verifications and in each call's eligible list; the identity
levels are hiroba.accounts' too."""

from django.db import migrations, models

NEW = {"live": "resident", "work": "worker", "study": "student"}
OLD = {new: old for old, new in NEW.items()}


def _convert(apps, mapping):
    VoterVerification = apps.get_model("proposals", "VoterVerification")
    Call = apps.get_model("proposals", "Call")
    for old, new in mapping.items():
        VoterVerification.objects.filter(residency=old).update(residency=new)
    for call in Call.objects.only("pk", "eligible_residencies").iterator():
        converted = [mapping.get(value, value) for value in call.eligible_residencies]
        if converted != call.eligible_residencies:
            Call.objects.filter(pk=call.pk).update(eligible_residencies=converted)


def forwards(apps, schema_editor):
    _convert(apps, NEW)


def backwards(apps, schema_editor):
    _convert(apps, OLD)


class Migration(migrations.Migration):

    dependencies = [
        ("proposals", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="voterverification",
            name="proposals_verification_residency",
        ),
        migrations.AlterField(
            model_name="call",
            name="voting_identity_level",
            field=models.CharField(choices=[("none", "本人確認なし"), ("email", "メールアドレスの確認"), ("verified", "本人確認済み")], default="verified", max_length=10, verbose_name="投票に必要な本人確認"),
        ),
        migrations.AlterField(
            model_name="voterverification",
            name="residency",
            field=models.CharField(choices=[("resident", "在住"), ("worker", "在勤"), ("student", "在学")], max_length=8, verbose_name="区分"),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.AddConstraint(
            model_name="voterverification",
            constraint=models.CheckConstraint(condition=models.Q(("residency__in", ["resident", "worker", "student"])), name="proposals_verification_residency"),
        ),
    ]
