"""The transform stage written as a Polars job, a peer of the engine for `npm run bench:local`.

It implements the data contract of ../shared/design/pipeline.md on its own (the engine renders its
rules from src/shared/contract.ts into SQL; nothing here is generated from that), and
test/bench/baselines.test.ts checks its Parquet row for row against the engine's, on the golden set,
on hand-written edge cases and on generated dirty days.

Reading, as the engine's catalog stage does: every file of the three raw partitions of one date, in
name order (hidden, empty and other kinds of files are skipped): `.csv` and `.csv.gz` (UTF-8, a BOM
allowed, CRLF or LF, blank lines are not rows, header names trimmed, lower-cased, spaces and hyphens
as `_`, column order free, extra columns kept for the reject's raw record, an optional column may be
absent) and `.xlsx` (every sheet whose first rows name a contract column; row numbers are the sheet's
own, counted from its header row as 1; numbers rendered as the engine renders Excel numbers).

Not handled: a CSV line that does not split into the header's fields (the engine rejects it as
`malformed_row`): a line with too many fields stops this script naming the file, and one with too
few reads as blank values. Neither the golden set nor the generator writes such lines. A line of
commas alone is taken for a blank line here (Polars cannot tell them apart); the engine rejects it.

Then: exact copies (identical raw contract values) collapse onto their last copy; each row gets the
first failing reason (missing_key, bad_date, bad_number, out_of_range, duplicate_key, then
unknown_customer and unknown_product against this batch's accepted dimensions only: the bench runs
one fresh batch); accepted rows are cleaned (trimmed, blank -> NULL, city/state 'Unknown', lower-case
e-mail, upper-case state, money rounded half away from zero to DECIMAL(10,2), integers exact in 64
bits, quantity in 32) and written, like the engine, under OUT/processed/: silver/{entity},
gold/{dim_customers,dim_products,fact_orders,agg_daily_sales}, rejects/{entity}, each as
batch_date=D/part-00000.parquet.

Prints one JSON object on stdout: {"seconds": {read, transform, write, total}, "counts": {entity:
{read, loaded, rejected, duplicates}, orders.revenue}, "peak_rss_bytes", "polars": version}.

usage: polars_baseline.py --lake DIR --date YYYY-MM-DD --out DIR
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
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl

# Each entity's columns in the contract's order, with their types; the other rules are the sets below.
INT, TEXT, DATE, MONEY = "integer", "text", "date", "decimal"
COLUMNS: dict[str, list[tuple[str, str]]] = {
    "customers": [
        ("customer_id", INT),
        ("first_name", TEXT),
        ("last_name", TEXT),
        ("email", TEXT),
        ("join_date", DATE),
        ("city", TEXT),
        ("state", TEXT),
    ],
    "products": [("product_id", INT), ("product_name", TEXT), ("category", TEXT), ("price", MONEY)],
    "orders": [
        ("order_id", INT),
        ("customer_id", INT),
        ("product_id", INT),
        ("order_date", DATE),
        ("order_amount", MONEY),
        ("quantity", INT),
        ("delivery_date", DATE),
    ],
}
KEY = {"customers": "customer_id", "products": "product_id", "orders": "order_id"}
REFERENCES = {"orders": [("customer_id", "customers", "unknown_customer"), ("product_id", "products", "unknown_product")]}
# Range rules (out_of_range when one does not hold): a column against a number or another column.
RANGE_RULES = {
    "products": [("price", ">=", 0)],
    "orders": [("order_amount", ">", 0), ("quantity", ">", 0), ("delivery_date", ">=", "order_date")],
}
OPTIONAL = {"delivery_date"}
MUST_BE_PRESENT = {"price", "order_date", "order_amount", "quantity"}
INT32 = {"quantity"}
CASE = {"email": "lower", "state": "upper"}
BLANK_AS = {"city": "Unknown", "state": "Unknown"}
GOLD = {"customers": "dim_customers", "products": "dim_products", "orders": "fact_orders"}
# DECIMAL(10,2): at most 8 digits before the point.
MONEY_DIGITS = 8
MONEY_LIMIT_CENTS = 10 ** (MONEY_DIGITS + 2)

# The whitespace the contract trims (Spark's \s, Python's csv): space, tab, LF, VT, FF, CR.
WS = " \t\n\x0b\x0c\r"
INT_RE = r"^[+-]?[0-9]+$"
DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
DECIMAL_RE = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"
# Lineage packed into one sortable number, as the engine's `ord`: later source, then later row.
ORD_SCALE = 10_000_000_000
# Non-contract header columns travel under this prefix so they never clash with lineage columns;
# the trimmed text of each contract column, under the other.
EXTRA, STRIPPED = "extra:", "strip:"


class BadInput(Exception):
    """A file the contract cannot read: one line naming it, never a stack trace."""


@dataclass
class Source:
    """One table of a partition: a CSV file or a workbook sheet, with its normalised header."""

    seq: int
    name: str
    header: list[str]
    frame: pl.DataFrame


def normalise_header(cells: list) -> list[str]:
    return [re.sub(r"[\s-]+", "_", str(c or "").replace("\ufeff", "").strip().lower()) for c in cells]


def check_header(entity: str, header: list[str], where: str) -> None:
    named = [h for h in header if h]
    twice = sorted({h for h in named if named.count(h) > 1})
    if twice:
        raise BadInput(f"{where}: column '{twice[0]}' appears twice in the header")
    missing = [c for c, _ in COLUMNS[entity] if c not in OPTIONAL and c not in named]
    if missing:
        raise BadInput(f"{where}: header lacks {entity} column(s) {', '.join(missing)} (header has: {', '.join(named) or 'nothing'})")


def raw_frame(entity: str, header: list[str], frame: pl.DataFrame, seq: int, name: str) -> pl.DataFrame:
    """Positional text columns to the contract's shape: '' for blank or absent, extras kept, lineage."""
    contract = {c for c, _ in COLUMNS[entity]}
    named = {h: f"c{i}" for i, h in enumerate(header) if h}
    cols = [(pl.col(named[c]) if c in named else pl.lit(None, pl.String)).fill_null("").alias(c) for c, _ in COLUMNS[entity]]
    extras = [pl.col(p).fill_null("").alias(EXTRA + h) for h, p in named.items() if h not in contract]
    return frame.select(
        *cols,
        *extras,
        pl.lit(name).alias("source_file"),
        pl.col("row_number").cast(pl.Int64),
        (pl.lit(seq, pl.Int64) * ORD_SCALE + pl.col("row_number")).alias("ord"),
    )


def csv_header(path: Path, key: str) -> list[str] | None:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
            for record in csv.reader(f):
                if record:
                    return record
    except (UnicodeDecodeError, OSError, EOFError) as err:
        raise BadInput(f"{key}: cannot be read as UTF-8 CSV ({err})") from err
    return None  # only blank lines: no header, nothing to read


def read_csv(path: Path, key: str, width: int) -> pl.DataFrame:
    data: Path | bytes = path
    try:
        if path.name.lower().endswith(".gz"):
            data = gzip.decompress(path.read_bytes())
        frame = pl.read_csv(
            data,
            has_header=True,
            infer_schema=False,
            new_columns=[f"c{i}" for i in range(width)],
            quote_char='"',
            encoding="utf8",
            raise_if_empty=False,
        )
    except (pl.exceptions.PolarsError, OSError, EOFError, gzip.BadGzipFile) as err:
        why = " ".join(str(err).split())[:300]
        raise BadInput(f"{key}: not read ({why}); a line that does not split into the header's {width} fields is not handled here") from err
    # The header is row 1, and blank lines are not rows. Polars reads a blank line as a row of empty
    # fields, so rows with no value at all are dropped before they are numbered.
    return frame.filter(pl.any_horizontal(pl.all().is_not_null())).with_row_index("row_number", offset=2)


def cell_text(value) -> str | None:
    """An Excel cell as the text a CSV export holds, as src/activities/workbook.ts renders it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        text = repr(value)
        # Plain digits, never exponent notation (the engine keeps 20 fraction digits at most).
        return format(round(Decimal(text), 20).normalize(), "f") if "e" in text.lower() else text
    if isinstance(value, dt.datetime):
        day, clock = value.strftime("%Y-%m-%d"), value.strftime("%H:%M:%S")
        millis = value.microsecond // 1000
        if clock == "00:00:00" and millis == 0:
            return day
        return f"{day} {clock}" + (f".{millis:03d}" if millis else "")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    return str(value)


def read_workbook(entity: str, path: Path, key: str, first_seq: int) -> list[Source]:
    # openpyxl is imported here: a day of CSV files never pays for it.
    import openpyxl

    contract = {c for c, _ in COLUMNS[entity]}
    try:
        book = openpyxl.load_workbook(path, read_only=False, data_only=True)
    except Exception as err:  # any failure to open is the same bad file
        raise BadInput(f"{key}: not a readable .xlsx workbook ({' '.join(str(err).split())})") from err
    sources: list[Source] = []
    for ws in book.worksheets:
        rows = []
        for number, values in enumerate(ws.iter_rows(min_row=1, max_row=ws.max_row, values_only=True), start=1):
            cells = [cell_text(v) for v in values]
            # Blank rows are skipped but keep their number.
            if any(c is not None and c.strip() for c in cells):
                rows.append((number, cells))
        found = next((i for i, (_, cells) in enumerate(rows[:10]) if contract & set(normalise_header(cells))), None)
        if found is None:
            continue  # an empty sheet, or one with no column of this entity: the engine lists it as unread
        header_row, header_cells = rows[found]
        header = normalise_header(header_cells)
        where = f"{key}[{ws.title}]"
        check_header(entity, header, where)
        width = len(header)
        data = {"row_number": [n - header_row + 1 for n, _ in rows[found + 1 :]]}
        for i in range(width):
            data[f"c{i}"] = [cells[i] if i < len(cells) else None for _, cells in rows[found + 1 :]]
        frame = pl.DataFrame(data, schema={"row_number": pl.Int64, **{f"c{i}": pl.String for i in range(width)}})
        seq = first_seq + len(sources)
        name = f"{path.name}[{ws.title}]"
        sources.append(Source(seq, name, header, raw_frame(entity, header, frame, seq, name)))
    return sources


def read_partition(lake: Path, entity: str, date: str) -> list[Source]:
    folder = lake / "raw" / entity / date
    if not folder.is_dir():
        raise BadInput(f"raw/{entity}/{date}/: no such partition in {lake}")
    # Name order as the engine sorts names (UTF-16 code units).
    names = sorted((p.name for p in folder.iterdir()), key=lambda n: n.encode("utf-16-be"))
    sources: list[Source] = []
    for name in names:
        path = folder / name
        lower = name.lower()
        if name.startswith((".", "_")) or path.is_symlink() or not path.is_file() or path.stat().st_size == 0:
            continue
        key = f"raw/{entity}/{date}/{name}"
        if lower.endswith(".xlsx"):
            sources.extend(read_workbook(entity, path, key, len(sources)))
        elif lower.endswith((".csv", ".csv.gz")):
            record = csv_header(path, key)
            if record is None:
                continue
            header = normalise_header(record)
            check_header(entity, header, key)
            frame = read_csv(path, key, len(header))
            seq = len(sources)
            sources.append(Source(seq, name, header, raw_frame(entity, header, frame, seq, name)))
    return sources


# ---- the contract's verdicts, as expressions over the raw text -------------------------------------


def stripped(c: str) -> pl.Expr:
    """The raw value without whitespace at its ends, computed once per column (see verdicts)."""
    return pl.col(STRIPPED + c)


def present(c: str) -> pl.Expr:
    return stripped(c) != ""


def as_int(c: str) -> pl.Expr:
    """Exact: text straight to a 64-bit (or 32-bit) integer, NULL when it does not fit."""
    s = stripped(c)
    width = pl.Int32 if c in INT32 else pl.Int64
    return pl.when(s.str.contains(INT_RE)).then(s.cast(width, strict=False))


def as_date(c: str) -> pl.Expr:
    s = stripped(c)
    return pl.when(s.str.contains(DATE_RE)).then(s.str.to_date("%Y-%m-%d", strict=False))


def money_cents(c: str) -> pl.Expr:
    """Whole cents from the decimal text, rounded half away from zero; NULL past DECIMAL(10,2).

    Exact, in integers: the digits before the point, and the first three after it (a fourth one
    and beyond cannot change a half-up rounding to cents).
    """
    s = stripped(c)
    dot = s.str.find(".", literal=True)
    whole = pl.when(dot.is_null()).then(s).otherwise(s.str.slice(0, dot))
    fraction = pl.when(dot.is_null()).then(pl.lit("")).otherwise(s.str.slice(dot + 1, 3))
    # Nothing but a sign before the point (".5", "-.5") is no units; more than 18 digits do not cast: out of range.
    units = pl.when(whole.is_in(["", "+", "-"])).then(0).otherwise(whole.cast(pl.Int64, strict=False)).abs()
    thousandths = (fraction + "000").str.slice(0, 3).cast(pl.Int64)
    cents = units * 100 + (thousandths + 5) // 10
    return pl.when(s.str.contains(DECIMAL_RE) & (units < 10**MONEY_DIGITS) & (cents < MONEY_LIMIT_CENTS)).then(
        pl.when(s.str.starts_with("-")).then(-cents).otherwise(cents)
    )


def clean_text(c: str) -> pl.Expr:
    s = stripped(c)
    s = pl.when(s == "").then(None).otherwise(s)
    if CASE.get(c) == "lower":
        s = s.str.to_lowercase()
    elif CASE.get(c) == "upper":
        s = s.str.to_uppercase()
    return s.fill_null(BLANK_AS[c]) if c in BLANK_AS else s


def typed(entity: str) -> list[pl.Expr]:
    kinds = {INT: as_int, DATE: as_date, MONEY: money_cents, TEXT: clean_text}
    return [kinds[kind](c).alias(f"t_{c}") for c, kind in COLUMNS[entity]]


def row_reason(entity: str) -> pl.Expr:
    """Checks 1-4 in the contract's order; the first that fails names the reason."""
    cols = COLUMNS[entity]
    identifiers = [c for c, _ in cols if c == KEY[entity] or c in {r for r, _, _ in REFERENCES.get(entity, [])}]
    numbers = [(c, kind) for c, kind in cols if kind in (INT, MONEY) and c not in identifiers]
    dates = [c for c, kind in cols if kind == DATE]

    def t(c: str) -> pl.Expr:
        return pl.col(f"t_{c}")

    def blank_fails(c: str) -> pl.Expr:
        return pl.lit(True) if c in MUST_BE_PRESENT else present(c)

    def holds(column: str, op: str, than) -> pl.Expr:
        # Money is typed as whole cents, so a number it is compared with is too.
        scale = 100 if dict(cols)[column] == MONEY else 1
        other = t(than) if isinstance(than, str) else pl.lit(than * scale)
        return {">": t(column) > other, ">=": t(column) >= other}[op].fill_null(True)

    arms = [
        ("missing_key", [t(c).is_null() for c in identifiers]),
        ("bad_date", [t(c).is_null() & blank_fails(c) for c in dates]),
        ("bad_number", [~stripped(c).str.contains(INT_RE if kind == INT else DECIMAL_RE) & blank_fails(c) for c, kind in numbers]),
        # Well-formed but too large for its type, then the range rules (a blank optional value holds).
        ("out_of_range", [present(c) & t(c).is_null() for c, _ in numbers] + [~holds(*rule) for rule in RANGE_RULES.get(entity, [])]),
    ]
    reason = pl.lit(None, pl.String)
    for why, conditions in reversed([arm for arm in arms if arm[1]]):
        reason = pl.when(pl.any_horizontal(conditions)).then(pl.lit(why)).otherwise(reason)
    return reason


def verdicts(entity: str, raw: pl.LazyFrame, accepted: dict[str, pl.Series]) -> pl.LazyFrame:
    contract = [c for c, _ in COLUMNS[entity]]
    key = pl.col(f"t_{KEY[entity]}")
    checked = (
        # Exact copies collapse onto their last copy (file order is kept through the whole plan).
        raw.filter(pl.struct(contract).is_last_distinct())
        .with_columns(pl.col(c).str.strip_chars(WS).alias(STRIPPED + c) for c in contract)
        .with_columns(typed(entity))
        .with_columns(row_reason(entity).alias("reason"))
    )
    # duplicate_key: among rows that passed 1-4, the last row of a key wins.
    last = pl.when(pl.col("reason").is_null()).then(pl.col("ord")).max().over(key)
    reason = pl.when(pl.col("reason").is_null() & (pl.col("ord") != last)).then(pl.lit("duplicate_key")).otherwise(pl.col("reason"))
    for column, target, why in REFERENCES.get(entity, []):
        reason = pl.when(reason.is_null() & ~pl.col(f"t_{column}").is_in(accepted[target].implode())).then(pl.lit(why)).otherwise(reason)
    return checked.with_columns(reason.alias("reason")).select(pl.exclude(f"^{STRIPPED}.*$"))


def decimal(cents: pl.Expr, precision: int) -> pl.Expr:
    """Whole cents as DECIMAL(precision, 2): exact, a scale-2 decimal divided by a whole 100."""
    return (cents.cast(pl.Decimal(38, 2)) / pl.lit(100).cast(pl.Decimal(38, 0))).cast(pl.Decimal(precision, 2))


def contract_columns(entity: str) -> list[pl.Expr]:
    return [(decimal(pl.col(f"t_{c}"), 10) if kind == MONEY else pl.col(f"t_{c}")).alias(c) for c, kind in COLUMNS[entity]]


def daily_sales(facts: pl.DataFrame) -> pl.DataFrame:
    n = pl.len().cast(pl.Int64)
    revenue = pl.col("t_order_amount").sum()
    return (
        facts.group_by(pl.col("t_order_date").alias("order_date"))
        .agg(
            n.alias("total_orders"),
            revenue.alias("revenue_cents"),
            pl.col("t_quantity").cast(pl.Int64).sum().alias("total_quantity"),
            pl.col("t_customer_id").n_unique().cast(pl.Int64).alias("unique_customers"),
            # Half-up in whole cents with integers, as the engine does (a float would round 23.245 down).
            ((2 * revenue + n) // (2 * n)).alias("avg_cents"),
        )
        .select(
            "order_date",
            "total_orders",
            decimal(pl.col("revenue_cents"), 18).alias("total_revenue"),
            "total_quantity",
            "unique_customers",
            decimal(pl.col("avg_cents"), 12).alias("avg_order_value"),
        )
        .sort("order_date")
    )


def raw_records(entity: str, rejected: pl.DataFrame, sources: list[Source]) -> pl.DataFrame:
    """Each rejected row's raw record: its source's header names (in header order) to the raw values."""
    contract = {c for c, _ in COLUMNS[entity]}
    parts = []
    for s in sources:
        rows = rejected.filter(pl.col("source_file") == s.name)
        if rows.height == 0:
            continue
        fields = [pl.col(h if h in contract else EXTRA + h).alias(h) for h in s.header if h]
        parts.append(rows.with_columns(pl.struct(fields).struct.json_encode().alias("raw_record")))
    if not parts:
        return rejected.with_columns(pl.lit(None, pl.String).alias("raw_record"))
    return pl.concat(parts).sort("ord")


def write(out: Path, layer: str, table: str, date: str, frame: pl.DataFrame) -> None:
    folder = out / "processed" / layer / table / f"batch_date={date}"
    folder.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(folder / "part-00000.parquet", compression="snappy")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lake", required=True, type=Path)
    ap.add_argument("--date", required=True)
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()
    try:
        batch = dt.date.fromisoformat(args.date)
    except ValueError:
        sys.exit(f"polars_baseline: --date must be YYYY-MM-DD, got {args.date!r}")

    t0 = time.perf_counter()
    try:
        sources = {e: read_partition(args.lake, e, args.date) for e in COLUMNS}
    except BadInput as err:
        sys.exit(f"polars_baseline: {err}")
    raw = {e: pl.concat([s.frame for s in found], how="diagonal") if found else None for e, found in sources.items()}
    t_read = time.perf_counter()

    counts: dict = {}
    judged: dict[str, pl.DataFrame] = {}
    accepted: dict[str, pl.Series] = {}
    for entity in ("customers", "products", "orders"):
        frame = raw[entity]
        if frame is None:
            sys.exit(f"polars_baseline: raw/{entity}/{args.date}/ holds no readable CSV or workbook")
        v = verdicts(entity, frame.lazy(), accepted).collect()
        judged[entity] = v
        accepted[entity] = v.filter(pl.col("reason").is_null())[f"t_{KEY[entity]}"]
        loaded = accepted[entity].len()
        counts[entity] = {"read": frame.height, "loaded": loaded, "rejected": v.height - loaded, "duplicates": frame.height - v.height}
    facts = judged["orders"].filter(pl.col("reason").is_null())
    counts["orders"]["revenue"] = (facts["t_order_amount"].sum() or 0) / 100
    t_transform = time.perf_counter()

    day = pl.lit(batch, pl.Date).alias("batch_date")
    for entity, v in judged.items():
        good = v.filter(pl.col("reason").is_null()).select(*contract_columns(entity), "source_file", pl.col("row_number").alias("source_row"), day)
        write(args.out, "silver", entity, args.date, good)
        write(args.out, "gold", GOLD[entity], args.date, good.drop("source_file", "source_row"))
        rejected = raw_records(entity, v.filter(pl.col("reason").is_not_null()), sources[entity])
        write(
            args.out,
            "rejects",
            entity,
            args.date,
            rejected.select(day, pl.lit(entity).alias("entity"), "source_file", "row_number", "reason", "raw_record"),
        )
    write(args.out, "gold", "agg_daily_sales", args.date, daily_sales(facts).with_columns(day))
    t_end = time.perf_counter()

    print(
        json.dumps(
            {
                "seconds": {"read": t_read - t0, "transform": t_transform - t_read, "write": t_end - t_transform, "total": t_end - t0},
                "counts": counts,
                "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                "polars": pl.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
