"""The transform stage written the way a pandas job would do it, as a baseline for `npm run bench:local`.

Same contract as the DuckDB engine (../shared/design/pipeline.md), implemented on its own:
read every CSV file of the three raw partitions of one date as text, in name order (`.csv` and
`.csv.gz`; UTF-8, a BOM allowed, CRLF or LF, blank lines are not rows; header names trimmed,
lower-cased, spaces and hyphens as `_`; column order free; extra columns kept only for the reject's
raw record; an optional column such as delivery_date may be absent and reads as NULL), collapse
exact copies onto their LAST copy, give each bad row the first failing reason (missing_key,
bad_date, bad_number, out_of_range, duplicate_key, unknown_customer, unknown_product), clean the
good rows (trim, blank -> NULL, city/state 'Unknown', lower-case e-mail, upper-case state, money
rounded half away from zero to DECIMAL(10,2) in integer cents) and write silver, rejects and gold
(dimensions, facts, daily sales) as Parquet under OUT/processed/{layer}/{table}/batch_date=D/, with
the engine's columns and types (the rejects of all three entities in one table, rejects/rejects).

Integers are parsed from their text, never through float64: keys up to 2^63-1 stay exact, a key
that does not fit 64 bits is missing_key and a quantity that does not fit 32 bits is out_of_range,
as in the engine. Not handled: `.xlsx` workbooks (the script stops naming one; the bench's data is
CSV, and bench/polars_baseline.py reads workbooks) and CSV lines that do not split into the header's
fields (the engine's malformed_row): a line with too many fields stops the script naming the file,
one with too few reads as blank values. Dates are parsed in years 1-9999 (DuckDB also reads year 0).

The reference check uses this batch's dimensions only (the bench runs one fresh batch).
Prints one JSON object on stdout: timings in seconds, counts, peak RSS.

usage: pandas_baseline.py --lake DIR --date YYYY-MM-DD --out DIR
"""

import argparse
import csv
import datetime as dt
import gzip
import json
import re
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

COLUMNS = {
    "customers": ["customer_id", "first_name", "last_name", "email", "join_date", "city", "state"],
    "products": ["product_id", "product_name", "category", "price"],
    "orders": ["order_id", "customer_id", "product_id", "order_date", "order_amount", "quantity", "delivery_date"],
}
OPTIONAL = {"delivery_date"}
KEY = {"customers": "customer_id", "products": "product_id", "orders": "order_id"}
INTEGERS = {"customer_id": 64, "product_id": 64, "order_id": 64, "quantity": 32}
DATES = {"join_date", "order_date", "delivery_date"}
MONEY = {"price", "order_amount"}

# The whitespace the contract trims at a value's ends: space, tab, LF, VT, FF, CR.
WS = " \t\n\x0b\x0c\r"
INT = r"[+-]?[0-9]+"
DECIMAL = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
# DECIMAL(10,2): at most 8 digits before the point.
MONEY_DIGITS = 8
# Non-contract header columns travel under this prefix so they never clash with lineage columns.
EXTRA = "extra:"


def fail(message: str) -> None:
    sys.exit(f"pandas_baseline: {message}")


def normalise_header(cells: list) -> list[str]:
    return [re.sub(r"[\s-]+", "_", str(c).replace("\ufeff", "").strip().lower()) for c in cells]


def csv_header(path: Path, key: str) -> list[str] | None:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
            return next((r for r in csv.reader(f) if r), None)
    except (UnicodeDecodeError, OSError, EOFError) as err:
        fail(f"{key}: cannot be read as UTF-8 CSV ({err})")


def read_partition(lake: Path, entity: str, date: str) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """The partition's rows (contract columns as text, '' for blank or absent, extras, lineage) and each file's header."""
    folder = lake / "raw" / entity / date
    if not folder.is_dir():
        fail(f"raw/{entity}/{date}/: no such partition in {lake}")
    frames, headers = [], {}
    # Name order as the engine sorts names (UTF-16 code units).
    for name in sorted((p.name for p in folder.iterdir()), key=lambda n: n.encode("utf-16-be")):
        path, key, lower = folder / name, f"raw/{entity}/{date}/{name}", name.lower()
        if name.startswith((".", "_")) or path.is_symlink() or not path.is_file() or path.stat().st_size == 0:
            continue
        if lower.endswith(".xlsx"):
            fail(f"{key}: the pandas baseline reads CSV only (bench/polars_baseline.py reads workbooks)")
        if not lower.endswith((".csv", ".csv.gz")):
            continue
        header = csv_header(path, key)
        if header is None:
            continue  # only blank lines
        header = normalise_header(header)
        named = [h for h in header if h]
        missing = [c for c in COLUMNS[entity] if c not in OPTIONAL and c not in named]
        if missing or len(set(named)) < len(named):
            fail(f"{key}: header lacks {entity} column(s) {', '.join(missing)}" if missing else f"{key}: a column appears twice in the header")
        try:
            df = pd.read_csv(path, header=0, names=[f"c{i}" for i in range(len(header))], dtype=str, keep_default_na=False, na_filter=False)
        except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError) as err:
            fail(f"{key}: not read ({' '.join(str(err).split())}); lines that do not split into the header's fields are not handled here")
        position = {h: f"c{i}" for i, h in enumerate(header) if h}
        out = pd.DataFrame({c: df[position[c]].fillna("") if c in position else pd.Series("", index=df.index, dtype="str") for c in COLUMNS[entity]})
        for h, p in position.items():
            if h not in COLUMNS[entity]:
                out[EXTRA + h] = df[p].fillna("")
        out["source_file"] = name
        out["row_number"] = np.arange(2, len(df) + 2)  # the header is row 1; blank lines are not rows
        frames.append(out)
        headers[name] = named
    if not frames:
        fail(f"no CSV files in {folder}")
    return pd.concat(frames, ignore_index=True), headers


def stripped(s: pd.Series) -> pd.Series:
    return s.str.strip(WS)


def matches(s: pd.Series, pattern: str) -> pd.Series:
    return stripped(s).str.fullmatch(pattern).fillna(False).astype(bool)


def integers(index: pd.Index, values: pd.Series, dtype: type = np.int64) -> pd.Series:
    """`values` (exact integers on some labels of `index`) over the whole index, NA elsewhere.

    Built from its parts: a masked assignment into an Int64 Series goes through float64 and
    loses keys above 2^53.
    """
    data = np.zeros(len(index), dtype=dtype)
    mask = np.ones(len(index), dtype=bool)
    at = index.get_indexer(values.index)
    data[at] = values.to_numpy(dtype=dtype)
    mask[at] = False
    return pd.Series(pd.arrays.IntegerArray(data, mask), index=index)


def as_int(s: pd.Series, bits: int) -> pd.Series:
    """Exact: the text itself to int64 (no float on the way); NA when it is no integer or does not fit `bits`."""
    t = stripped(s)
    digits = t.str.lstrip("+-").str.lstrip("0")
    limit = pd.Series(str(2 ** (bits - 1) - 1), index=s.index).where(~t.str.startswith("-"), str(2 ** (bits - 1)))
    width = len(str(2 ** (bits - 1)))
    n = digits.str.len()
    fits = matches(s, INT) & ((n < width) | ((n == width) & (digits <= limit)))
    return integers(s.index, t[fits].str.lstrip("+").astype("int64"), np.int32 if bits == 32 else np.int64)


def as_date(s: pd.Series) -> pd.Series:
    """A real calendar date written YYYY-MM-DD (padded), else NaT (pandas 3 parses it in microseconds: years 1-9999)."""
    return pd.to_datetime(stripped(s).where(matches(s, DATE)), format="%Y-%m-%d", errors="coerce")


def money_cents(s: pd.Series) -> pd.Series:
    """Whole cents, rounded half away from zero; NA when it does not fit DECIMAL(10,2).

    Exact through a float: the text is cut to 3 decimals first (a fourth and beyond cannot change a
    half-up rounding to cents), and below 10^9 a double holds such a number within 10^-4 of a
    thousandth, so rounding the thousandths recovers them exactly.
    """
    t = stripped(s).where(matches(s, DECIMAL))
    x = pd.to_numeric(t.str.replace(r"^([^.]*\.[0-9]{0,3})[0-9]*$", r"\1", regex=True), errors="coerce")
    x = x[x.abs() < 10**9]
    thousandths = np.round(x.to_numpy(dtype="float64") * 1000).astype("int64")
    cents = np.sign(thousandths) * ((np.abs(thousandths) + 5) // 10)
    return integers(s.index, pd.Series(cents, index=x.index)[np.abs(cents) < 10 ** (MONEY_DIGITS + 2)])


def decimal(cents: pd.Series, precision: int) -> pd.Series:
    """Non-negative whole cents as DECIMAL(precision, 2), through exact text."""
    c = cents.astype("int64")
    text = (c // 100).astype(str) + "." + (c % 100).astype(str).str.zfill(2)
    return pd.Series(pd.arrays.ArrowExtensionArray(pa.array(text.tolist(), pa.string()).cast(pa.decimal128(precision, 2))), index=cents.index)


def blank(s: pd.Series) -> pd.Series:
    return stripped(s) == ""


def clean_text(s: pd.Series) -> pd.Series:
    t = stripped(s)
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
                "int": lambda: as_int(s, INTEGERS[c]),
                "date": lambda: as_date(s),
                "money": lambda: money_cents(s),
                "is_int": lambda: matches(s, INT),
                "is_decimal": lambda: matches(s, DECIMAL),
                "blank": lambda: blank(s),
            }[kind]()
        return self.cache[key]


def first_reasons(entity: str, p: Parsed) -> pd.Series:
    df = p.df
    reason = pd.Series(None, index=df.index, dtype=object)

    def mark(mask: pd.Series, name: str) -> None:
        reason[mask.fillna(False).astype(bool) & reason.isna()] = name

    def not_key(c: str) -> pd.Series:
        return p.get("int", c).isna()

    def not_date(c: str) -> pd.Series:
        return p.get("date", c).isna()

    def too_large(c: str, kind: str) -> pd.Series:
        return ~p.get("blank", c) & p.get(kind, c).isna()

    if entity == "customers":
        mark(not_key("customer_id"), "missing_key")
        mark(~p.get("blank", "join_date") & not_date("join_date"), "bad_date")
    elif entity == "products":
        mark(not_key("product_id"), "missing_key")
        mark(~p.get("is_decimal", "price"), "bad_number")
        mark(too_large("price", "money") | (p.get("money", "price") < 0), "out_of_range")
    else:
        mark(not_key("order_id") | not_key("customer_id") | not_key("product_id"), "missing_key")
        mark(not_date("order_date") | (~p.get("blank", "delivery_date") & not_date("delivery_date")), "bad_date")
        mark(~p.get("is_decimal", "order_amount") | ~p.get("is_int", "quantity"), "bad_number")
        late = (p.get("date", "delivery_date") < p.get("date", "order_date")).fillna(False).astype(bool)
        mark(too_large("order_amount", "money") | too_large("quantity", "int"), "out_of_range")
        mark((p.get("money", "order_amount") <= 0) | (p.get("int", "quantity") <= 0) | late, "out_of_range")
    return reason


def typed(entity: str, p: Parsed, rows: pd.Series) -> pd.DataFrame:
    df = p.df[rows]
    out = pd.DataFrame(index=df.index)
    for c in COLUMNS[entity]:
        s = df[c]
        if c in INTEGERS:
            out[c] = p.get("int", c)[rows]
        elif c in DATES:
            out[c] = p.get("date", c)[rows].astype(pd.ArrowDtype(pa.date32()))
        elif c in MONEY:
            out[c] = p.get("money", c)[rows]  # cents until written
        elif c == "email":
            out[c] = clean_text(s).str.lower()
        elif c == "state":
            out[c] = clean_text(s).str.upper().fillna("Unknown")
        elif c == "city":
            out[c] = clean_text(s).fillna("Unknown")
        else:
            out[c] = clean_text(s)
    out["source_file"] = df["source_file"]
    out["source_row"] = df["row_number"].astype("int64")
    return out


def with_decimals(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(**{c: decimal(df[c], 10) for c in MONEY if c in df.columns})


def batch_dates(batch: dt.date, index: pd.Index) -> pd.Series:
    days = np.full(len(index), (batch - dt.date(1970, 1, 1)).days, dtype=np.int32)
    return pd.Series(pd.arrays.ArrowExtensionArray(pa.array(days, pa.date32())), index=index)


def write(out: Path, layer: str, table: str, date: str, df: pd.DataFrame) -> None:
    folder = out / "processed" / layer / table / f"batch_date={date}"
    folder.mkdir(parents=True, exist_ok=True)
    df.to_parquet(folder / "part-00000.parquet", index=False, compression="snappy")


def daily_sales(facts: pd.DataFrame) -> pd.DataFrame:
    g = facts.assign(cents=facts["order_amount"].astype("int64"), quantity=facts["quantity"].astype("int64")).groupby("order_date")
    agg = pd.DataFrame(
        {
            "total_orders": g.size().astype("int64"),
            "revenue_cents": g["cents"].sum(),
            "total_quantity": g["quantity"].sum().astype("int64"),
            "unique_customers": g["customer_id"].nunique().astype("int64"),
        }
    )
    # Half-up in whole cents with integers, as the engine does (a float would round 23.245 down).
    avg = (2 * agg["revenue_cents"] + agg["total_orders"]) // (2 * agg["total_orders"])
    agg = agg.assign(total_revenue=decimal(agg["revenue_cents"], 18), avg_order_value=decimal(avg, 12))
    return agg.reset_index()[["order_date", "total_orders", "total_revenue", "total_quantity", "unique_customers", "avg_order_value"]]


def raw_records(bad: pd.DataFrame, headers: dict[str, list[str]], entity: str) -> pd.Series:
    """Each rejected row's raw record: its file's header names (in header order) to the raw values."""
    out = pd.Series("", index=bad.index, dtype=object)
    for f, rows in bad.groupby("source_file", sort=False):
        names = headers[f]
        columns = [h if h in COLUMNS[entity] else EXTRA + h for h in names]
        out[rows.index] = [json.dumps(dict(zip(names, values)), ensure_ascii=False, separators=(",", ":")) for values in rows[columns].itertuples(index=False)]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lake", required=True, type=Path)
    ap.add_argument("--date", required=True)
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()
    try:
        batch = dt.date.fromisoformat(args.date)
    except ValueError:
        fail(f"--date must be YYYY-MM-DD, got {args.date!r}")

    t0 = time.perf_counter()
    raw = {e: read_partition(args.lake, e, args.date) for e in COLUMNS}
    t_read = time.perf_counter()

    counts: dict = {}
    silver: dict = {}
    rejects = []
    for entity in ("customers", "products", "orders"):
        df, headers = raw[entity]
        read = len(df)
        # Exact copies collapse onto their LAST copy: for rows A, B, A with one key, A wins and B is duplicate_key.
        df = df[~df.duplicated(subset=COLUMNS[entity], keep="last")]
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
        rejects.append(
            pd.DataFrame(
                {
                    "batch_date": batch_dates(batch, pd.RangeIndex(len(bad))),
                    "entity": entity,
                    "source_file": bad["source_file"].to_numpy(),
                    "row_number": bad["row_number"].to_numpy(dtype="int64"),
                    "reason": reason[reason.notna()].to_numpy(),
                    "raw_record": raw_records(bad, headers, entity).to_numpy(),
                }
            )
        )
        counts[entity] = {"read": read, "loaded": len(good), "rejected": int(reason.notna().sum()), "duplicates": duplicates}
    counts["orders"]["revenue"] = int(silver["orders"]["order_amount"].sum()) / 100
    t_transform = time.perf_counter()

    def dated(df: pd.DataFrame) -> pd.DataFrame:
        return df.assign(batch_date=batch_dates(batch, df.index))

    gold_names = {"customers": "dim_customers", "products": "dim_products", "orders": "fact_orders"}
    for entity, df in silver.items():
        df = with_decimals(df)
        write(args.out, "silver", entity, args.date, dated(df))
        write(args.out, "gold", gold_names[entity], args.date, dated(df.drop(columns=["source_file", "source_row"])))
    write(args.out, "rejects", "rejects", args.date, pd.concat(rejects, ignore_index=True))
    write(args.out, "gold", "agg_daily_sales", args.date, dated(daily_sales(silver["orders"])))
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
