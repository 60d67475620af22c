#!/usr/bin/env python3
"""The transform stage written the way a pandas job would do it, as the baseline for `npm run bench:local`.

Same contract as the DuckDB engine (../shared/design/pipeline.md): read every CSV of the three raw
partitions of one date as text, collapse exact duplicate rows, give each bad row the first failing
reason (missing_key, bad_date, bad_number, out_of_range, duplicate_key, unknown_customer,
unknown_product), clean the good rows (trim, blank -> NULL, city/state 'Unknown', lower-case e-mail,
upper-case state, money rounded half-up to cents) and write silver, rejects and gold (dimensions,
facts, daily sales) as Parquet under OUT/processed/{layer}/{table}/batch_date=D/.

The reference check uses this batch's dimensions only (the bench runs one fresh batch).
Prints one JSON object on stdout: timings in seconds, counts, peak RSS.

usage: pandas_baseline.py --lake DIR --date YYYY-MM-DD --out DIR
"""
import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = {
    "customers": ["customer_id", "first_name", "last_name", "email", "join_date", "city", "state"],
    "products": ["product_id", "product_name", "category", "price"],
    "orders": ["order_id", "customer_id", "product_id", "order_date", "order_amount", "quantity", "delivery_date"],
}
KEY = {"customers": "customer_id", "products": "product_id", "orders": "order_id"}

WS = r"[ \t\n\x0b\f\r]*"
INT = rf"{WS}[+-]?[0-9]+{WS}"
DECIMAL = rf"{WS}[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+){WS}"
DATE = rf"{WS}[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}{WS}"
INT64_MAX = 2**63 - 1


def read_partition(lake: Path, entity: str, date: str) -> pd.DataFrame:
    folder = lake / "raw" / entity / date
    files = sorted(p for p in folder.iterdir() if p.name.endswith((".csv", ".csv.gz")))
    if not files:
        sys.exit(f"pandas_baseline: no CSV files in {folder}")
    frames = []
    for f in files:
        df = pd.read_csv(f, dtype=str, keep_default_na=False, na_filter=False)
        df.columns = [c.strip().lower() for c in df.columns]
        missing = [c for c in COLUMNS[entity] if c not in df.columns]
        if missing:
            sys.exit(f"pandas_baseline: {f} lacks columns {missing}")
        df = df[COLUMNS[entity]].copy()
        df["source_file"] = f.name
        df["row_number"] = np.arange(2, len(df) + 2)  # line 1 is the header
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def matches(s: pd.Series, pattern: str) -> pd.Series:
    return s.str.fullmatch(pattern).fillna(False).astype(bool)


def as_int(s: pd.Series) -> pd.Series:
    n = pd.to_numeric(s.str.strip(), errors="coerce")
    return n.where(n.abs() <= INT64_MAX)


def as_date(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s.str.strip(), format="%Y-%m-%d", errors="coerce")


def money(s: pd.Series) -> pd.Series:
    x = pd.to_numeric(s.str.strip(), errors="coerce")
    # Half away from zero on the decimal text; the epsilon undoes binary float error (2.675 -> 2.68).
    return np.sign(x) * np.floor(np.abs(x) * 100 + 0.5 + 1e-9) / 100


def blank(s: pd.Series) -> pd.Series:
    return s.str.strip() == ""


def clean_text(s: pd.Series) -> pd.Series:
    t = s.str.strip()
    return t.where(t != "", None)


class Parsed:
    """Each raw column parsed once: the pattern test and the typed value."""

    def __init__(self, df: pd.DataFrame):
        self.df = df
        self.cache: dict = {}

    def get(self, kind: str, c: str) -> pd.Series:
        key = (kind, c)
        if key not in self.cache:
            s = self.df[c]
            self.cache[key] = {
                "int": lambda: as_int(s),
                "date": lambda: as_date(s),
                "money": lambda: money(s),
                "is_int": lambda: matches(s, INT),
                "is_date": lambda: matches(s, DATE),
                "is_decimal": lambda: matches(s, DECIMAL),
                "blank": lambda: blank(s),
            }[kind]()
        return self.cache[key]


def first_reasons(entity: str, p: Parsed) -> pd.Series:
    df = p.df
    reason = pd.Series(None, index=df.index, dtype=object)

    def mark(mask: pd.Series, name: str) -> None:
        reason[mask & reason.isna()] = name

    def not_int(c: str) -> pd.Series:
        return ~p.get("is_int", c) | p.get("int", c).isna()

    def not_date(c: str) -> pd.Series:
        return ~p.get("is_date", c) | p.get("date", c).isna()

    if entity == "customers":
        mark(not_int("customer_id"), "missing_key")
        mark(~p.get("blank", "join_date") & not_date("join_date"), "bad_date")
    elif entity == "products":
        mark(not_int("product_id"), "missing_key")
        mark(~p.get("is_decimal", "price"), "bad_number")
        mark(p.get("money", "price") < 0, "out_of_range")
    else:
        mark(not_int("order_id") | not_int("customer_id") | not_int("product_id"), "missing_key")
        mark(not_date("order_date") | (~p.get("blank", "delivery_date") & not_date("delivery_date")), "bad_date")
        mark(~p.get("is_decimal", "order_amount") | ~p.get("is_int", "quantity"), "bad_number")
        late = p.get("date", "delivery_date") < p.get("date", "order_date")
        mark((p.get("money", "order_amount") <= 0) | (p.get("int", "quantity") <= 0) | late.fillna(False), "out_of_range")
    return reason


def typed(entity: str, p: Parsed, rows: pd.Series) -> pd.DataFrame:
    df = p.df[rows]
    out = pd.DataFrame(index=df.index)
    for c in COLUMNS[entity]:
        s = df[c]
        if c in ("customer_id", "product_id", "order_id", "quantity"):
            out[c] = p.get("int", c)[rows].astype("Int64" if c != "quantity" else "Int32")
        elif c in ("join_date", "order_date", "delivery_date"):
            out[c] = p.get("date", c)[rows].dt.date
        elif c in ("price", "order_amount"):
            out[c] = p.get("money", c)[rows]
        elif c == "email":
            out[c] = clean_text(s).str.lower()
        elif c == "state":
            out[c] = clean_text(s).str.upper().fillna("Unknown")
        elif c == "city":
            out[c] = clean_text(s).fillna("Unknown")
        else:
            out[c] = clean_text(s)
    out["source_file"] = df["source_file"]
    out["row_number"] = df["row_number"]
    return out


def write(out: Path, layer: str, table: str, date: str, df: pd.DataFrame) -> None:
    folder = out / "processed" / layer / table / f"batch_date={date}"
    folder.mkdir(parents=True, exist_ok=True)
    df.to_parquet(folder / "part-00000.parquet", index=False, compression="snappy")


def daily_sales(facts: pd.DataFrame) -> pd.DataFrame:
    cents = (facts["order_amount"] * 100).round().astype("int64")
    g = facts.assign(cents=cents).groupby("order_date")
    agg = pd.DataFrame(
        {
            "total_orders": g.size(),
            "revenue_cents": g["cents"].sum(),
            "total_quantity": g["quantity"].sum(),
            "unique_customers": g["customer_id"].nunique(),
        }
    )
    agg["total_revenue"] = agg["revenue_cents"] / 100
    # Half-up in whole cents with integers, as the engine does.
    agg["avg_order_value"] = ((2 * agg["revenue_cents"] + agg["total_orders"]) // (2 * agg["total_orders"])) / 100
    return agg.drop(columns="revenue_cents").reset_index()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lake", required=True, type=Path)
    ap.add_argument("--date", required=True)
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()

    t0 = time.perf_counter()
    raw = {e: read_partition(args.lake, e, args.date) for e in COLUMNS}
    t_read = time.perf_counter()

    counts: dict = {}
    silver: dict = {}
    rejects = []
    for entity in ("customers", "products", "orders"):
        df = raw[entity]
        read = len(df)
        df = df[~df.duplicated(subset=COLUMNS[entity], keep="first")]
        duplicates = read - len(df)
        parsed = Parsed(df)
        reason = first_reasons(entity, parsed)
        good = typed(entity, parsed, reason.isna())
        # duplicate_key: among rows that passed 1-4, conflicting rows share a key; the last in file order wins.
        conflict = good.duplicated(subset=KEY[entity], keep="last")
        reason.loc[good.index[conflict]] = "duplicate_key"
        good = good[~conflict]
        if entity == "orders":
            unknown_c = ~good["customer_id"].isin(silver["customers"]["customer_id"])
            reason.loc[good.index[unknown_c]] = "unknown_customer"
            unknown_p = ~unknown_c & ~good["product_id"].isin(silver["products"]["product_id"])
            reason.loc[good.index[unknown_p]] = "unknown_product"
            good = good[~(unknown_c | unknown_p)]
        silver[entity] = good
        bad = df[reason.notna()]
        records = [json.dumps(dict(zip(COLUMNS[entity], row)), separators=(",", ":")) for row in bad[COLUMNS[entity]].itertuples(index=False)]
        rejects.append(
            pd.DataFrame(
                {
                    "batch_date": args.date,
                    "entity": entity,
                    "source_file": bad["source_file"].to_numpy(),
                    "row_number": bad["row_number"].to_numpy(),
                    "reason": reason[reason.notna()].to_numpy(),
                    "raw_record": records,
                }
            )
        )
        counts[entity] = {"read": read, "loaded": len(good), "rejected": int(reason.notna().sum()), "duplicates": duplicates}
    counts["orders"]["revenue"] = round(float(silver["orders"]["order_amount"].sum()), 2)
    t_transform = time.perf_counter()

    batch = pd.Timestamp(args.date).date()
    gold_names = {"customers": "dim_customers", "products": "dim_products", "orders": "fact_orders"}
    for entity, df in silver.items():
        write(args.out, "silver", entity, args.date, df.assign(batch_date=batch))
        write(args.out, "gold", gold_names[entity], args.date, df.drop(columns=["source_file", "row_number"]).assign(batch_date=batch))
    write(args.out, "rejects", "rejects", args.date, pd.concat(rejects, ignore_index=True))
    write(args.out, "gold", "agg_daily_sales", args.date, daily_sales(silver["orders"]).assign(batch_date=batch))
    t_end = time.perf_counter()

    print(
        json.dumps(
            {
                "seconds": {"read": t_read - t0, "transform": t_transform - t_read, "write": t_end - t_transform, "total": t_end - t0},
                "counts": counts,
                "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                "pandas": pd.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
