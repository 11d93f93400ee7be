"""Personal data: e-mail detection, masking of raw values, keyed hashing of candidate ids."""

from __future__ import annotations

import hashlib
import hmac
import re

import numpy as np
import pandas as pd
import pyarrow as pa

# An e-mail address anywhere in a value (the no_personal_data rule, masking of raw values).
EMAIL_PATTERN = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
EMAIL_RE = re.compile(EMAIL_PATTERN)
MASK = "<masked>"


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
    return series.where(~contains_email(series), MASK)


def contains_email(s: pd.Series) -> pd.Series:
    """True where the value holds an e-mail address (EMAIL_PATTERN found anywhere).

    The pattern needs an `@`: the regex runs only on the values that hold one (a plain
    substring scan is several times cheaper than the regex on every value).
    """
    has_at = s.str.contains("@", regex=False).fillna(False).to_numpy(dtype=bool)
    found = np.zeros(len(s), dtype=bool)
    idx = np.flatnonzero(has_at)
    if len(idx):
        hit = s.iloc[idx].str.contains(EMAIL_PATTERN, regex=True).fillna(False)
        found[idx] = hit.to_numpy(dtype=bool)
    return pd.Series(found, index=s.index)
