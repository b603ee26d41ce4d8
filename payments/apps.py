from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self) -> None:
        # Celery autodiscovery imports payments.tasks only; settlement tasks live beside it.
        from payments import tasks_settlement  # noqa: F401
