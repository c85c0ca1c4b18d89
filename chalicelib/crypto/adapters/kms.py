"""AWS KMS KEK: GenerateDataKey / Decrypt / ReEncrypt with the encryption context enforced by KMS."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.crypto.errors import CiphertextIntegrityError, KeyWrapperUnavailableError
from chalicelib.crypto.ports import WrappedKey

# KMS answers these when the blob or its context is wrong, not when KMS is down.
_INTEGRITY_CODES = {"InvalidCiphertextException", "IncorrectKeyException", "AccessDeniedException"}


@dataclass(frozen=True)
class KmsKeyWrapper:
    kms: Any  # boto3 KMS client
    key_id: str

    def current_kek_id(self) -> str:
        return self.key_id

    def generate_data_key(self, context: Mapping[str, str]) -> tuple[bytes, WrappedKey]:
        response = self._call(
            "generate_data_key", KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=dict(context)
        )
        return response["Plaintext"], WrappedKey(blob=response["CiphertextBlob"], kek_id=self.key_id)

    def unwrap(self, wrapped: WrappedKey, context: Mapping[str, str]) -> bytes:
        response = self._call(
            "decrypt", CiphertextBlob=wrapped.blob, KeyId=wrapped.kek_id, EncryptionContext=dict(context)
        )
        return response["Plaintext"]

    def rewrap(self, wrapped: WrappedKey, context: Mapping[str, str]) -> WrappedKey:
        # ReEncrypt happens inside KMS: the data key never leaves it in plaintext.
        response = self._call(
            "re_encrypt",
            CiphertextBlob=wrapped.blob,
            SourceKeyId=wrapped.kek_id,
            SourceEncryptionContext=dict(context),
            DestinationKeyId=self.key_id,
            DestinationEncryptionContext=dict(context),
        )
        return WrappedKey(blob=response["CiphertextBlob"], kek_id=self.key_id)

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return getattr(self.kms, operation)(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _INTEGRITY_CODES:
                raise CiphertextIntegrityError("stored secret is damaged") from None
            raise KeyWrapperUnavailableError("the key service refused the request") from None
        except BotoCoreError:
            raise KeyWrapperUnavailableError("the key service is unreachable") from None
