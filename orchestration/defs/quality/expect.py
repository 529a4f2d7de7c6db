"""Expectation builders shared by the suites: schema and types from the contracts, nulls, ranges.

Types come from the Arrow schemas in ``contracts`` so the suites cannot drift from what the
assets write. Time checks run on an epoch-seconds copy of a column (see :func:`epoch_seconds`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import great_expectations.expectations as gxe
import pandas as pd
import pyarrow as pa

from contracts.datasets.tables import UNDER_18
from contracts.schemas import DEVICES, SURFACES, UNKNOWN
from contracts.world.latent import AGE_BUCKETS

ALLOWED_SURFACES = (*SURFACES, UNKNOWN)  # logged events without a surface are "unknown"
ALLOWED_DEVICES = (*DEVICES, UNKNOWN)  # datasets without devices say "unknown"
ALLOWED_AGE_BUCKETS = (UNDER_18, *AGE_BUCKETS, UNKNOWN)  # dataset adapters add under-18 and unknown

# Numbers and booleans: the numpy dtype, or (in an object column) the Python type per value, so a
# stray string in an otherwise numeric column flags that row rather than the whole column.
_TYPE_LISTS: dict[pa.DataType, list[str]] = {
    pa.int32(): ["int32", "int"],
    pa.int64(): ["int64", "int"],
    pa.float32(): ["float32", "float"],
    pa.float64(): ["float64", "float"],
    pa.bool_(): ["bool"],
}


def type_expectation(column: str, arrow_type: pa.DataType, mostly: float = 1.0) -> gxe.Expectation | None:
    """The GX type rule for an Arrow type; None where pandas cannot say (lists come back as arrays).

    Strings and timestamps use ExpectColumnValuesToBeOfType, which compares an extension dtype's
    scalar type (string[pyarrow] -> str, datetime64[us, UTC] -> Timestamp) or each object value.
    """
    if pa.types.is_timestamp(arrow_type):
        return gxe.ExpectColumnValuesToBeOfType(column=column, type_="Timestamp", mostly=mostly)
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return gxe.ExpectColumnValuesToBeOfType(column=column, type_="str", mostly=mostly)
    if arrow_type in _TYPE_LISTS:
        return gxe.ExpectColumnValuesToBeInTypeList(
            column=column, type_list=_TYPE_LISTS[arrow_type], mostly=mostly
        )
    return None


def schema_expectations(
    schema: pa.Schema, extra_columns: Iterable[str] = (), *, mostly: float = 1.0
) -> list[gxe.Expectation]:
    """Exactly the schema's columns (plus helper columns the check adds), each of its type."""
    typed = [type_expectation(f.name, f.type, mostly) for f in schema]
    return [
        gxe.ExpectTableColumnsToMatchSet(
            column_set=[*schema.names, *extra_columns],
            exact_match=True,
            meta={"why": "the writer and every reader agree on the layout"},
        ),
        *(t for t in typed if t is not None),
    ]


def not_null(columns: Iterable[str], *, mostly: float = 1.0, why: str = "") -> list[gxe.Expectation]:
    return [gxe.ExpectColumnValuesToNotBeNull(column=c, mostly=mostly, meta={"why": why}) for c in columns]


def between(
    columns: Iterable[str],
    min_value: float | None = None,
    max_value: float | None = None,
    *,
    mostly: float = 1.0,
    why: str = "",
) -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnValuesToBeBetween(
            column=c, min_value=min_value, max_value=max_value, mostly=mostly, meta={"why": why}
        )
        for c in columns
    ]


def not_after(column: str, latest: datetime, *, mostly: float = 1.0, why: str = "") -> gxe.Expectation:
    """No value later than ``latest`` in an epoch-seconds helper column (see :func:`epoch_seconds`)."""
    limit = latest.timestamp()
    return gxe.ExpectColumnValuesToBeBetween(column=column, max_value=limit, mostly=mostly, meta={"why": why})


def epoch_seconds(values: pd.Series) -> pd.Series:
    """Seconds since the epoch, for time range checks (NaN where unparseable; the type check flags it).

    GX compares datetime columns element by element in Python (seconds per million rows); numbers
    are compared vectorised, and the quarantined rows keep the original timestamp for reading.
    """
    stamps = pd.to_datetime(values, utc=True, errors="coerce")
    seconds = (stamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
    return seconds.astype("float64")
