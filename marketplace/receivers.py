"""Cache invalidation only (the one use of signals we allow): any saved or deleted catalog row
bumps the catalog cache version. Business effects never hang off signals."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import DeveloperProfile
from marketplace.catalog_cache import catalog_changed
from marketplace.models import Agent, AgentVersion, Category, Review


@receiver([post_save, post_delete], sender=Agent)
@receiver([post_save, post_delete], sender=AgentVersion)
@receiver([post_save, post_delete], sender=Category)
@receiver([post_save, post_delete], sender=Review)
@receiver([post_save, post_delete], sender=DeveloperProfile)
def _catalog_row_changed(sender, **kwargs) -> None:
    catalog_changed()
