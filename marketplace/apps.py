from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = "Marketplace catalog"

    def ready(self) -> None:
        from marketplace import receivers  # noqa: F401 - connects the cache-invalidation receivers
