"""Export completeness: every model with a foreign-key path to Customer is in the exporter's registry."""

from django.apps import apps

from contacts.models import Customer
from crm.privacy.registry import BY_LABEL, SECTIONS


def _reaches_customer() -> set[str]:
    """Labels of the models from which forward FK/one-to-one fields lead, in any number of steps, to Customer."""
    reaching = {Customer._meta.label}
    changed = True
    while changed:
        changed = False
        for model in apps.get_models():
            if model._meta.label in reaching:
                continue
            for field in model._meta.concrete_fields:
                target = field.related_model if field.is_relation else None
                if target is not None and target._meta.label in reaching and target is not model:
                    reaching.add(model._meta.label)
                    changed = True
                    break
    return reaching


def test_every_model_with_a_path_to_customer_is_in_the_registry():
    missing = _reaches_customer() - set(BY_LABEL)
    assert not missing, f"models holding customer data the export does not cover: {sorted(missing)}"
    assert {"crm.Message", "crm.SurveyResponse", "contacts.Note", "crm.InboundReceipt"} <= set(BY_LABEL)


def test_every_registry_lookup_is_a_real_path_and_every_exclusion_says_why(db):
    for section in SECTIONS:
        apps.get_model(section.label).objects.filter(**{section.lookup: 1}).exists()  # a bad path raises
        assert section.file or section.why, section.label
