"""The five break kinds with their usual lengths; supervisors may change the minutes in the admin."""

from django.db import migrations

BREAK_TYPES = [
    ("short", "Short break", 5),
    ("lunch", "Lunch", 30),
    ("well_being", "Well-being break", 10),
    ("training", "Training", 30),
    ("coaching", "Coaching", 15),
]


def seed(apps, schema_editor):
    BreakType = apps.get_model("agents", "BreakType")
    for code, name, minutes in BREAK_TYPES:
        BreakType.objects.get_or_create(code=code, defaults={"name": name, "default_minutes": minutes})


def unseed(apps, schema_editor):
    apps.get_model("agents", "BreakType").objects.filter(code__in=[code for code, _, _ in BREAK_TYPES]).delete()


class Migration(migrations.Migration):
    dependencies = [("agents", "0005_training_breaks_supervision")]

    operations = [migrations.RunPython(seed, unseed)]
