from django.apps import AppConfig


class KYCConfig(AppConfig):
    name = "compliance.kyc"
    label = "kyc"
