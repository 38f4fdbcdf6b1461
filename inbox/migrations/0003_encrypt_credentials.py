"""Account credentials move to encrypted columns; rows already stored are encrypted in place
(and decrypted again when the migration is reversed)."""

import security.encryption
from django.db import migrations

from security.encryption import decrypt, encrypt, is_encrypted

FIELDS = ("secret", "verify_token", "access_token")


def _convert(schema_editor, change):
    # Raw SQL: the model's field would try to decrypt the plain values it reads.
    quote = schema_editor.connection.ops.quote_name
    table = quote("inbox_account")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {', '.join(quote(f) for f in FIELDS)} FROM {table}")
        for pk, *values in cursor.fetchall():
            changed = [change(value) for value in values]
            if changed != values:
                assignments = ", ".join(f"{quote(f)} = %s" for f in FIELDS)
                cursor.execute(
                    f"UPDATE {table} SET {assignments} WHERE id = %s", [*changed, pk]
                )


def encrypt_existing(apps, schema_editor):
    _convert(schema_editor, lambda v: v if not v or is_encrypted(v) else encrypt(v))


def decrypt_existing(apps, schema_editor):
    _convert(schema_editor, lambda v: decrypt(v) if v and is_encrypted(v) else v)


class Migration(migrations.Migration):

    dependencies = [
        ('inbox', '0002_account_poll_state'),
    ]

    operations = [
        migrations.AlterField(
            model_name='account',
            name='access_token',
            field=security.encryption.EncryptedTextField(blank=True, help_text='Token for outbound API calls.', max_length=1024),
        ),
        migrations.AlterField(
            model_name='account',
            name='secret',
            field=security.encryption.EncryptedTextField(help_text='Signing secret of webhook deliveries.', max_length=512),
        ),
        migrations.AlterField(
            model_name='account',
            name='verify_token',
            field=security.encryption.EncryptedTextField(blank=True, max_length=256),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
    ]
