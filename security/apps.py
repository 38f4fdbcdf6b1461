from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Security"

    def ready(self) -> None:
        # A key that does not parse stops the process at start-up, not at the first webhook.
        from security.encryption import check_keys

        check_keys()
