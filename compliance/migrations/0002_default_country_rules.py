"""The shipped default rule set: block the comprehensively sanctioned jurisdictions.

Every default is marked `reviewable`: the operator must confirm it against the sanctions regimes
that apply to them (OFAC, EU, UK, UN) and clear the flag in the admin.
"""

from django.db import migrations

NOTE = (
    "Shipped default, review me: comprehensively sanctioned jurisdiction (US OFAC country "
    "programme; check the EU, UK and UN regimes that apply to you). Regions such as Crimea and the "
    "so-called DNR/LNR cannot be told apart by country code and need a region-level rule."
)

DEFAULTS = [
    ("CU", "Cuba"),
    ("IR", "Iran"),
    ("KP", "North Korea"),
    ("SY", "Syria"),
]


def create_defaults(apps, schema_editor):
    CountryRule = apps.get_model("compliance", "CountryRule")
    for code, name in DEFAULTS:
        CountryRule.objects.get_or_create(
            country=code,
            defaults={
                "blocked": True,
                "reviewable": True,
                "reason": (
                    f"AgentNexus is not available in {name} ({code}) because of international "
                    "sanctions that apply to the marketplace and its payment partners."
                ),
                "note": NOTE,
            },
        )


def remove_defaults(apps, schema_editor):
    CountryRule = apps.get_model("compliance", "CountryRule")
    CountryRule.objects.filter(country__in=[code for code, _ in DEFAULTS], reviewable=True).delete()


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, remove_defaults)]
