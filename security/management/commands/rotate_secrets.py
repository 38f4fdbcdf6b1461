"""`rotate_secrets`: re-encrypt every stored credential with the first key of
CAREMGR_SECRET_KEYS, so that the older keys can then be removed."""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from tqdm import tqdm

from security.encryption import encrypted_fields

BATCH = 500


class Command(BaseCommand):
    help = "Re-encrypt stored credentials with the first key of CAREMGR_SECRET_KEYS."

    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            fields = encrypted_fields(model)
            if not fields:
                continue
            rows = model._base_manager.values_list("pk", *fields).order_by("pk")
            label = model._meta.label
            with tqdm(total=rows.count(), desc=label, disable=options["verbosity"] < 1) as bar:
                # Reading decrypts with any key, writing encrypts with the first one.
                for start in range(0, rows.count(), BATCH):
                    with transaction.atomic():
                        for pk, *values in rows[start : start + BATCH]:
                            model._base_manager.filter(pk=pk).update(
                                **dict(zip(fields, values, strict=True))
                            )
                            bar.update()
                            total += 1
        self.stdout.write(f"{total} rows re-encrypted with the first key")
