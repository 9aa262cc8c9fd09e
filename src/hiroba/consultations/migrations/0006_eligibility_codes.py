"""提出できる方 is stored as Category codes (resident, worker, …) instead of Japanese labels, and
the identity levels are hiroba.accounts' (one set of labels for every module)."""

from django.db import migrations, models

LABELS = {"resident": "在住", "worker": "在勤", "student": "在学", "business": "事業者",
          "stakeholder": "利害関係者", "other": "その他"}


def _convert(apps, mapping):
    Case = apps.get_model("consultations", "Case")
    for case in Case.objects.exclude(eligibility=[]).only("pk", "eligibility").iterator():
        converted = [mapping.get(value, value) for value in case.eligibility]
        if converted != case.eligibility:
            Case.objects.filter(pk=case.pk).update(eligibility=converted)


def labels_to_codes(apps, schema_editor):
    _convert(apps, {label: code for code, label in LABELS.items()})


def codes_to_labels(apps, schema_editor):
    _convert(apps, LABELS)


class Migration(migrations.Migration):

    dependencies = [
        ("consultations", "0005_published_results_and_approval_route"),
    ]

    operations = [
        migrations.AlterField(
            model_name="case",
            name="identity_level",
            field=models.CharField(choices=[("none", "本人確認なし"), ("email", "メールアドレスの確認"), ("verified", "本人確認済み")], default="none", max_length=10, verbose_name="本人確認の水準"),
        ),
        migrations.RunPython(labels_to_codes, codes_to_labels),
    ]
