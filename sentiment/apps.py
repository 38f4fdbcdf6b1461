"""Django app config; the app has no models, it only makes ``sentiment`` installable."""

from django.apps import AppConfig


class SentimentConfig(AppConfig):
    name = "sentiment"
    verbose_name = "Sentiment"
