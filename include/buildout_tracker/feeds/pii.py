"""Personal data: keyed hashing of candidate ids, e-mail detection, masking of raw values."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd
import pyarrow as pa

from .schema import EMAIL_RE, MASK


def hmac_hex(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def hash_column(values: pa.Array | pa.ChunkedArray, key: bytes) -> pa.Array:
    """HMAC-SHA256 (hex) of every non-null value; each distinct value hashed once."""
    if not key:
        raise ValueError("an HMAC key is required to pseudonymise personal data")
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    dict_arr = arr.dictionary_encode()
    hashed = pa.array([hmac_hex(key, v) for v in dict_arr.dictionary.to_pylist()], pa.string())
    return pa.DictionaryArray.from_arrays(dict_arr.indices, hashed).cast(pa.string())


def has_email(value: object) -> bool:
    return isinstance(value, str) and EMAIL_RE.search(value) is not None


def mask_value(value: object) -> object:
    """The value itself unless it holds an e-mail address."""
    return MASK if has_email(value) else value


def mask_emails(series: pd.Series) -> pd.Series:
    found = series.str.contains(EMAIL_RE.pattern, regex=True).fillna(False).astype(bool)
    return series.where(~found, MASK)
