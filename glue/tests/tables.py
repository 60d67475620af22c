"""Reading the job's Parquet output and the expected CSVs into comparable rows."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def norm(value) -> object:
    """One spelling per value: numbers by value (20 == 20.00), NULL and '' alike, dates as ISO text."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value).strip()
    if NUMBER.match(text):
        return Decimal(text).normalize() + 0
    if text.startswith("{") and text.endswith("}"):
        try:
            return json.dumps(json.loads(text), sort_keys=True)
        except ValueError:
            return text
    return text


def read_expected(path: Path) -> tuple[list[str], Counter]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        columns = list(reader.fieldnames or [])
        rows = Counter(tuple(norm(r[c]) for c in columns) for r in reader)
    return columns, rows


def read_actual(spark, folder: str | list[str], columns: list[str]) -> Counter:
    df = spark.read.parquet(*([folder] if isinstance(folder, str) else folder))
    missing = [c for c in columns if c not in df.columns]
    assert not missing, f"{folder} lacks column(s) {missing}; it has {df.columns}"
    return Counter(tuple(norm(r[c]) for c in columns) for r in df.select(*columns).collect())


def diff(expected: Counter, actual: Counter) -> str:
    lines = [f"  missing: {r}" for r in sorted((expected - actual).elements(), key=str)]
    lines += [f"  unexpected: {r}" for r in sorted((actual - expected).elements(), key=str)]
    return "\n".join(lines)
