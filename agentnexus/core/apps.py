from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "agentnexus.core"
    label = "core"
    verbose_name = "Core"
