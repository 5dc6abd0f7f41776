"""Field-encryption keys for environments that do not set them (the demo): kept in var/."""

import base64
import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet


def load_or_create_demo_keys(var_dir: Path) -> tuple[list[str], str]:
    """Return (fernet_keys, hmac_key) from var/field-keys.json, creating it on first use."""
    key_file = var_dir / "field-keys.json"
    if key_file.exists():
        stored = json.loads(key_file.read_text())
        return stored["field_keys"], stored["hmac_key"]
    var_dir.mkdir(parents=True, exist_ok=True)
    stored = {
        "field_keys": [Fernet.generate_key().decode()],
        "hmac_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    # Only the owner may read the keys.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(stored, handle)
    return stored["field_keys"], stored["hmac_key"]
