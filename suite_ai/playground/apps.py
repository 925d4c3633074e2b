from django.apps import AppConfig


class PlaygroundConfig(AppConfig):
    name = "suite_ai.playground"
    label = "playground"
