"""Seed the standard-answer library (定型回答) with the answers the ward's paper uses."""

from django.db import migrations

STANDARD_ANSWERS = [
    ("個別事業に関わる提案（担当部署に共有）",
     "個別事業に関わる提案内容については担当部署に共有し、今後、具体的な取組みを検討し進めていく上での参考にさせていただきます。"),
    ("ご提案（担当部署に共有）",
     "ご提案については担当部署に共有し、今後、具体的な取組みを検討し進めていく上での参考にさせていただきます。"),
    ("今後の参考",
     "いただいたご意見は、今後、具体的な取組みの推進や進捗管理を行っていく上での参考とさせていただきます。"),
    ("既に記載",
     "ご意見の趣旨は既に素案に記載しております。いただいたご意見も踏まえ、取組みを進めてまいります。"),
    ("案の対象外",
     "本案件とは直接関係しないご意見のため、所管部署にお伝えします。"),
]


def seed(apps, schema_editor):
    StandardAnswer = apps.get_model("consultations", "StandardAnswer")
    for title, text in STANDARD_ANSWERS:
        StandardAnswer.objects.get_or_create(title=title, defaults={"text": text})


def unseed(apps, schema_editor):
    StandardAnswer = apps.get_model("consultations", "StandardAnswer")
    StandardAnswer.objects.filter(title__in=[t for t, _ in STANDARD_ANSWERS]).delete()


class Migration(migrations.Migration):
    dependencies = [("consultations", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
