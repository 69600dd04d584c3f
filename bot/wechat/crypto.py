"""WeChat's callback security: request signatures and WXBizMsgCrypt message encryption.

The same scheme serves the Official Account (receive id = AppID) and WeCom
(receive id = CorpID):

- ``signature`` = SHA-1 of the sorted concatenation of token, timestamp and
  nonce (plus the ciphertext for ``msg_signature``);
- the ciphertext is Base64 of AES-256-CBC over
  ``random(16) | len(msg) as 4 bytes big-endian | msg | receive id``,
  PKCS#7-padded to a multiple of 32 bytes; the key is the Base64 decoding of
  EncodingAESKey + "=", the IV its first 16 bytes.

Signatures are compared with ``hmac.compare_digest``; every check raises a
``Refused`` subclass and never returns a half-trusted result.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.wechat.errors import BadSignature, Malformed, StaleRequest

BLOCK = 32  # WeChat pads to 32 bytes, not to AES's 16
DEFAULT_WINDOW_SECONDS = 300.0


def sha1_signature(*parts: str) -> str:
    """WeChat's signature: SHA-1 hex of the parts sorted and concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def check_signature(given: str | None, *parts: str) -> None:
    """Raise ``BadSignature`` unless ``given`` is the signature of ``parts``."""
    expected = sha1_signature(*parts)
    if not given or not hmac.compare_digest(expected.encode(), given.strip().lower().encode()):
        raise BadSignature()


def check_timestamp(
    timestamp: str | None, window: float = DEFAULT_WINDOW_SECONDS, now: float | None = None
) -> int:
    """The request's timestamp as an int, if it is within ``window`` seconds of now."""
    if not timestamp or not timestamp.isdigit() or len(timestamp) > 12:
        raise StaleRequest("missing or malformed timestamp")
    value = int(timestamp)
    current = time.time() if now is None else now
    if abs(current - value) > window:
        raise StaleRequest(f"timestamp {value} is {current - value:.0f}s away from now")
    return value


def pkcs7_pad(data: bytes) -> bytes:
    size = BLOCK - len(data) % BLOCK
    return data + bytes([size]) * size


def pkcs7_unpad(data: bytes) -> bytes:
    size = data[-1] if data else 0
    if not 1 <= size <= BLOCK or data[-size:] != bytes([size]) * size:
        raise Malformed("bad PKCS#7 padding")
    return data[:-size]


class MessageCrypto:
    """Encrypts and decrypts one account's messages (WXBizMsgCrypt).

    Args:
        token: the Token set in the platform's server configuration.
        encoding_aes_key: the 43-character EncodingAESKey.
        receive_id: AppID (Official Account) or CorpID (WeCom); decrypted
            messages must carry it.
    """

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("EncodingAESKey is not Base64") from exc
        if len(encoding_aes_key) != 43 or len(key) != 32:
            raise ValueError("EncodingAESKey must be 43 characters (a 32-byte key)")
        self.token = token
        self.receive_id = receive_id
        self._cipher = Cipher(algorithms.AES(key), modes.CBC(key[:16]))

    def verify(self, msg_signature: str | None, timestamp: str, nonce: str, encrypted: str) -> None:
        """Raise ``BadSignature`` unless ``msg_signature`` signs this ciphertext."""
        check_signature(msg_signature, self.token, timestamp, nonce, encrypted)

    def decrypt(self, encrypted: str) -> bytes:
        """The plaintext message; raises ``Malformed`` or ``BadSignature`` (wrong receive id)."""
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Malformed("ciphertext is not Base64") from exc
        if not raw or len(raw) % 16:
            raise Malformed("ciphertext is not a whole number of AES blocks")
        decryptor = self._cipher.decryptor()
        plain = pkcs7_unpad(decryptor.update(raw) + decryptor.finalize())
        if len(plain) < 20:
            raise Malformed("decrypted message is too short")
        (length,) = struct.unpack(">I", plain[16:20])
        message, receive_id = plain[20 : 20 + length], plain[20 + length :]
        if len(message) != length:
            raise Malformed("message length field exceeds the decrypted data")
        if not hmac.compare_digest(receive_id, self.receive_id.encode("utf-8")):
            raise BadSignature("message is addressed to another AppID/CorpID")
        return message

    def encrypt(self, message: bytes, random_prefix: bytes | None = None) -> str:
        """Base64 ciphertext of ``message``; ``random_prefix`` only for known-answer tests."""
        prefix = os.urandom(16) if random_prefix is None else random_prefix
        if len(prefix) != 16:
            raise ValueError("the random prefix is 16 bytes")
        plain = prefix + struct.pack(">I", len(message)) + message + self.receive_id.encode()
        encryptor = self._cipher.encryptor()
        return base64.b64encode(encryptor.update(pkcs7_pad(plain)) + encryptor.finalize()).decode()

    def signed_reply(self, encrypted: str, timestamp: str, nonce: str) -> dict[str, str]:
        """The fields of an encrypted passive reply: Encrypt, MsgSignature, TimeStamp, Nonce."""
        return {
            "Encrypt": encrypted,
            "MsgSignature": sha1_signature(self.token, timestamp, nonce, encrypted),
            "TimeStamp": timestamp,
            "Nonce": nonce,
        }
