"""Encrypted model fields with a keyed hash stored beside each value."""

from typing import Any

from django.db import models

from privacy.crypto import decrypt_text, encrypt_text, keyed_hash


class EncryptedTextField(models.TextField):
    """Stores a Fernet token; Python code sees plaintext. Not filterable: use the hash field."""

    description = "Text encrypted at rest"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt_text(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_text(value)

    def get_lookup(self, lookup_name: str) -> Any:
        # Ciphertext differs on every write: equality on it would silently find nothing.
        if lookup_name not in {"isnull"}:
            return None
        return super().get_lookup(lookup_name)


class KeyedHashField(models.CharField):
    """HMAC of a sibling field's plaintext, computed on every save (bulk_create included)."""

    def __init__(self, *args: Any, source_field: str = "", **kwargs: Any) -> None:
        self.source_field = source_field
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        # Not db_index: on PostgreSQL a CharField's db_index brings a second, varchar_pattern_ops
        # index for LIKE, which a hash never sees and every write pays. Models index it in
        # Meta.indexes (a plain btree) where they look values up by hash.
        kwargs.setdefault("db_index", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source_field"] = self.source_field
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = keyed_hash(getattr(model_instance, self.source_field))
        setattr(model_instance, self.attname, value)
        return value


def encrypted_fields_of(model: type[models.Model]) -> list[EncryptedTextField]:
    return [field for field in model._meta.concrete_fields if isinstance(field, EncryptedTextField)]
