from django.apps import AppConfig


class ModelEndpointConfig(AppConfig):
    name = "suite_ai.model_endpoint"
    label = "model_endpoint"
    default_auto_field = "django.db.models.BigAutoField"
