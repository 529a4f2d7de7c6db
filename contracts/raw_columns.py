"""Reading raw feature columns the same way from a training frame and from a served request.

``contracts.features.ranker_inputs`` takes either a DataFrame (training: one row per
(user, candidate), every column per row) or a mapping of column name to value (serving: the
candidates' columns as NumPy arrays, the user's and the request's values once, for every row).
Whatever the form, a value must become the same number or string, so the reading rules live here,
once: a ``pandas.Series`` is read exactly as training always read it; an array of floats, ints or
bools is read without pandas (the same values); anything else in a mapping is a request constant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

Raw = pd.DataFrame | Mapping[str, Any]


def is_column(value: object) -> bool:
    """A per-row column (a Series or an array); anything else is one value for every row."""
    return isinstance(value, pd.Series | np.ndarray)


def row_count(raw: Raw) -> int:
    """Rows of ``raw``: a frame's length, or the common length of a mapping's columns."""
    if isinstance(raw, pd.DataFrame):
        return len(raw)
    lengths = {len(value) for value in raw.values() if is_column(value)}
    if len(lengths) > 1:
        raise ValueError(f"ranker input columns differ in length: {sorted(lengths)}")
    if not lengths:
        raise ValueError("ranker inputs need at least one per-row column")
    return lengths.pop()


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def numbers(raw: Raw, name: str, n: int, default: float = 0.0) -> np.ndarray:
    """Column ``name`` as float64, non-numbers and missing values as ``default``."""
    if name not in raw:
        return np.full(n, default)
    value = raw[name]
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        values = value.astype(np.float64, copy=False)
        return np.where(np.isnan(values), default, values)
    if isinstance(value, np.ndarray) and value.dtype.kind in "iub":
        return value.astype(np.float64)
    if is_column(value):  # a Series, or an object array: the pandas reading training always used
        return pd.to_numeric(pd.Series(value), errors="coerce").fillna(default).to_numpy(np.float64)
    return np.full(n, _number(value, default))


def _number(value: object, default: float) -> float:
    """One request constant, read as ``numbers`` reads a column of it."""
    if _missing(value):
        return default
    if isinstance(value, bool | int | float | np.number):
        return float(value)
    read = pd.to_numeric(pd.Series([value]), errors="coerce").fillna(default)
    return float(read.to_numpy(np.float64)[0])


def strings(raw: Raw, name: str, n: int) -> np.ndarray:
    """Column ``name`` as a NumPy string array, missing values as ``""``."""
    if name not in raw:
        return np.full(n, "")
    value = raw[name]
    if isinstance(value, np.ndarray) and value.dtype.kind == "U":
        return value
    if is_column(value):
        return np.asarray(pd.Series(value).fillna("").astype(str).tolist(), dtype=str).reshape(n)
    return np.full(n, "" if _missing(value) else str(value))


def per_row(raw: Raw, name: str, n: int) -> list[Any] | None:
    """A list-valued column as one value per row, or None when ``name`` is one value for every row
    (read it with ``constant``: its cross features are then computed once, vectorised)."""
    if name not in raw:
        return [None] * n
    value = raw[name]
    return value.tolist() if is_column(value) else None


def constant(raw: Raw, name: str) -> Any:
    """The one value of ``name`` that holds for every row (None when absent)."""
    return raw.get(name)
