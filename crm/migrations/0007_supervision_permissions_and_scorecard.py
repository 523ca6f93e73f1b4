"""Supervision (issue 6): the Supervisor group manages training, breaks, policies and quality reviews in the
admin (only for their teams' agents: the admin narrows every list and object to them), and a standard
scorecard to review with. The groups live in crm (0002), hence this migration is here too.
"""

from django.db import migrations

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
VAC = (VIEW, ADD, CHANGE)

SUPERVISOR_GRANTS = [
    ("agents", "trainingcourse", VAC),
    ("agents", "trainingrecord", VAC),
    ("agents", "trainingreminder", (VIEW,)),
    ("agents", "breaktype", (VIEW,)),
    ("agents", "break", VAC),
    ("agents", "breakpolicy", VAC),
    ("agents", "breakduenotice", (VIEW,)),
    ("agents", "supervisoraction", (VIEW,)),
    ("crm", "scorecard", VAC),
    ("crm", "scorecardcriterion", (*VAC, DELETE)),
    ("crm", "review", VAC),
    ("crm", "reviewscore", (VIEW,)),
]

STANDARD_SCORECARD = [
    ("Greeting", 10, "Greets by name, introduces themselves, sets the tone."),
    ("Empathy", 20, "Acknowledges the customer's situation and feelings."),
    ("Accuracy", 30, "Information and actions are correct."),
    ("Resolution", 25, "The need is met, or the next step is clear and owned."),
    ("Compliance", 15, "Identity checks, disclosures and data rules followed."),
]


def forwards(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        original, app_config.models_module = getattr(app_config, "models_module", None), True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = original

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Supervisor")
    for app, model, actions in SUPERVISOR_GRANTS:
        for action in actions:
            group.permissions.add(Permission.objects.get(content_type__app_label=app, codename=f"{action}_{model}"))

    Scorecard = apps.get_model("crm", "Scorecard")
    ScorecardCriterion = apps.get_model("crm", "ScorecardCriterion")
    if not Scorecard.objects.filter(name__iexact="Standard").exists():
        card = Scorecard.objects.create(name="Standard", description="The default quality scorecard.")
        for position, (name, weight, description) in enumerate(STANDARD_SCORECARD):
            ScorecardCriterion.objects.create(
                scorecard=card, name=name, weight=weight, description=description, position=position
            )


def backwards(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.filter(name="Supervisor").first()
    if group is not None:
        for app, model, actions in SUPERVISOR_GRANTS:
            group.permissions.remove(
                *Permission.objects.filter(
                    content_type__app_label=app, codename__in=[f"{a}_{model}" for a in actions]
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0002_default_groups"),
        ("crm", "0006_quality_reviews"),
        ("agents", "0006_seed_break_types"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
