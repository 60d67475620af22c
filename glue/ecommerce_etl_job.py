"""The daily e-commerce ETL as an AWS Glue (Spark) job.

Reads one day's raw partitions, applies the data contract of docs/pipeline design (cleaning, reject
checks in order, duplicate handling) and writes silver, gold, rejects and metrics for that day:

    <processed>/silver/{customers,products,orders}/batch_date=D/*.parquet
    <processed>/gold/{dim_customers,dim_products,fact_orders,agg_daily_sales,load_metrics}/batch_date=D/
    <processed>/rejects/{customers,products,orders}/batch_date=D/*.parquet
    <processed>/_metrics/batch_date=D/metrics.json

Arguments: --run_date YYYY-MM-DD --raw_path <root holding raw/> ... see parse_args. Paths may be
s3:// (on Glue) or local folders (tests, local runs with `python3 glue/ecommerce_etl_job.py`).

The script is plain PySpark on purpose: nothing here needs GlueContext or job bookmarks (the
workflow, not Glue, decides what to process), so one file runs unchanged on Glue 5.0 (Spark 3.5.4,
Python 3.11; the version `pipeline aws setup` creates and glue/tests pins) and on a laptop. Keep to
Spark 3.5's API: nothing from Spark 4 (no VARIANT, no Spark-4-only `F.*` helpers); casts that may fail
go through SQL `try_cast`, so a malformed value is NULL under either ANSI setting (off in 3.5, on in 4).
Spark has no .xlsx reader without a plugin jar; workbooks are small, so the driver parses them with
openpyxl (add `--additional-python-modules openpyxl==3.1.5` to the Glue job) and hands Spark the rows.

CSV files are split by Python's csv module on an executor, one task per file, not by Spark's CSV
reader: Spark's reader keeps a value with text after its closing quote or a quote never closed in the
last field, replaces bytes that are not UTF-8, and leaves gzip to Hadoop's codec, so it cannot tell a
malformed line from a value or name a damaged file. split_csv reads the bytes itself (gzip module,
strict UTF-8), in the dialect of the local backend (src/activities/local/raw-csv.ts), so both give a
line the same verdict. A file is read whole (binaryFile), so one CSV file may hold up to 2 GB;
a .csv.gz up to 2 GB compressed.

Paths are never patterns: every path handed to a Spark reader goes through _literal, because Hadoop
expands *, ?, [...] and {a,b} in them, and a raw file called `orders*.csv` is a name like any other.

Unknown customers/products are judged against the dimension after this batch's rows are applied: this
batch's keys plus those of every EARLIER batch_date folder under <processed>/gold/dim_*/ (the local
backend's rule too). Earlier only, so rerunning an old date after newer ones gives the result of its
first run, as the idempotency rule asks, instead of accepting orders for customers that came later.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import re
import sys
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from pyspark import cloudpickle
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

ENTITIES = ("customers", "products", "orders")

# Column order here is the order of the output tables (and of the Redshift staging tables).
COLUMNS = {
    "customers": ("customer_id", "first_name", "last_name", "email", "join_date", "city", "state"),
    "products": ("product_id", "product_name", "category", "price"),
    "orders": ("order_id", "customer_id", "product_id", "order_date", "order_amount", "quantity", "delivery_date"),
}
OPTIONAL_COLUMNS = {"orders": ("delivery_date",)}
KEY = {"customers": "customer_id", "products": "product_id", "orders": "order_id"}
RAW_SUFFIXES = (".csv", ".csv.gz", ".xlsx")

INT_RE = r"^[+-]?[0-9]+$"
DECIMAL_RE = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"
DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
MONEY = T.DecimalType(10, 2)


# Executors run split_csv from a pickled task. Glue runs this file as __main__, whose functions are
# pickled by value; imported under its own name (tests, a library) they would be pickled by reference,
# and executors cannot import this module.
if __name__ != "__main__":
    cloudpickle.register_pickle_by_value(sys.modules[__name__])

# Spark's binaryFile source holds a file in one byte array
MAX_FILE_BYTES = 2**31 - 1


class InvalidRawData(Exception):
    """Raw input the job cannot read as the contract says (bad header, unreadable file)."""


class RawFileProblem(Exception):
    """A CSV file that cannot be read as a whole (damaged gzip, not UTF-8); raised where its bytes are read."""


@dataclass(frozen=True)
class RawFile:
    path: str  # full path, as Hadoop sees it
    name: str  # file name inside the partition
    size: int = 0  # bytes, as stored


# ---- file system (through Hadoop, so s3:// and local paths behave the same) ----------------------


def _fs_for(spark: SparkSession, path: str):
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    return hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), hpath


def _literal(path: str) -> str:
    """A path as a Spark reader takes it literally: Hadoop globs every path it reads, and a backslash
    makes the next character plain (listStatus and create, used elsewhere here, do not glob)."""
    return re.sub(r"([\\*?\[\]{}])", r"\\\1", path)


def list_dir(spark: SparkSession, path: str) -> list[tuple[str, str, bool, int]]:
    """(name, full path, is_dir, size) of a folder's entries; empty when the folder does not exist."""
    fs, hpath = _fs_for(spark, path)
    if not fs.exists(hpath):
        return []
    return [(s.getPath().getName(), s.getPath().toString(), s.isDirectory(), s.getLen()) for s in fs.listStatus(hpath)]


def write_text(spark: SparkSession, path: str, text: str) -> None:
    fs, hpath = _fs_for(spark, path)
    out = fs.create(hpath, True)
    try:
        out.write(bytearray(text.encode("utf-8")))
    finally:
        out.close()


def list_raw_files(spark: SparkSession, raw_path: str, entity: str, run_date: str) -> list[RawFile]:
    """Supported files of one partition in name order (the order that decides duplicate_key)."""
    folder = f"{raw_path.rstrip('/')}/raw/{entity}/{run_date}"
    files = [
        RawFile(path, name, size)
        for name, path, is_dir, size in list_dir(spark, folder)
        if not is_dir and not name.startswith((".", "_")) and name.lower().endswith(RAW_SUFFIXES)
    ]
    if not files:
        raise InvalidRawData(f"{folder}/: no .csv, .csv.gz or .xlsx file for {entity}")
    return sorted(files, key=lambda f: f.name)


# ---- reading: every value a string, plus lineage --------------------------------------------------


def normalise_header(names: list, where: str, entity: str) -> list[str]:
    cleaned = [str(n if n is not None else "").replace("\ufeff", "").strip().lower() for n in names]
    seen: set[str] = set()
    for n in cleaned:
        if n and n in seen:
            raise InvalidRawData(f"{where}: column '{n}' appears twice in the header")
        seen.add(n)
    required = [c for c in COLUMNS[entity] if c not in OPTIONAL_COLUMNS.get(entity, ())]
    missing = [c for c in required if c not in seen]
    if missing:
        raise InvalidRawData(
            f"{where}: header lacks {entity} column(s) {', '.join(missing)} (the header has: {', '.join(c for c in cleaned if c)})"
        )
    return cleaned


def _shape(df: DataFrame, header: list[str], entity: str, source: str, seq: int) -> DataFrame:
    """From positional string columns c0..cN (data rows only, with _row and, for CSV, _malformed: the
    text of a line that did not split) to the common raw shape."""
    named = [(h, f"c{i}") for i, h in enumerate(header) if h]
    malformed = F.col("_malformed") if "_malformed" in df.columns else F.lit(None).cast("string")
    record = F.to_json(F.struct(*[F.coalesce(F.col(c), F.lit("")).alias(h) for h, c in named]))
    # a malformed line has no fields to name: its text, as the local backend writes it
    raw_json = F.when(malformed.isNotNull(), F.to_json(F.struct(malformed.alias("line")))).otherwise(record)
    by_name = dict(named)
    cols = [
        (F.col(by_name[c]) if c in by_name else F.lit(None).cast("string")).alias(f"raw_{c}") for c in COLUMNS[entity]
    ]
    return df.select(
        *cols,
        raw_json.alias("_raw"),
        malformed.alias("_malformed"),
        F.lit(source).alias("_file"),
        F.lit(seq).cast("int").alias("_seq"),
        F.col("_row").cast("int").alias("_row"),
    )


# ---- CSV: split in Python, on an executor (see the module doc) ------------------------------------

_LONE_CR = re.compile(r"\r(?!\n|$)")


def _byte_lines(data: bytes, gz: bool) -> Iterator[bytes]:
    if not gz:
        yield from io.BytesIO(data)
        return
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            yield from stream
    except EOFError as e:
        raise RawFileProblem(
            "truncated or corrupt gzip: the compressed stream ends before its end-of-stream marker (an upload cut short?)"
        ) from e
    except (OSError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise RawFileProblem(f"truncated or corrupt gzip: {e}") from e


def _text_lines(data: bytes, gz: bool) -> Iterator[str]:
    """Physical lines with their line ends; a problem names the line (counted by LF) it is on."""
    for n, raw in enumerate(_byte_lines(data, gz), start=1):
        if b"\x00" in raw:  # valid UTF-8, but what UTF-16 or binary data looks like
            raise RawFileProblem(f"not UTF-8 text: NUL bytes on line {n} (UTF-16 or binary data?); save it as UTF-8")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise RawFileProblem(
                f"not UTF-8 (an invalid byte on line {n}; Latin-1 or Windows-1252?); save it as UTF-8 (a BOM is allowed)"
            ) from e
        if n == 1 and text.startswith("\ufeff"):
            text = text[1:]
        # a lone CR ends a line too; the csv module wants one line per item
        if "\r" in text and _LONE_CR.search(text):
            yield from io.StringIO(text, newline="")
        else:
            yield text


def _without_line_end(text: str) -> str:
    return text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith(("\n", "\r")) else text


def split_csv(data: bytes, gz: bool) -> Iterator[tuple[str, int, list | None, str | None]]:
    """The records of one CSV file, in order: ("header", 1, fields, None), then per record ("row", n,
    fields, None) or ("malformed", n, None, its text as written without its line end).

    The dialect: comma, `"` quotes doubled inside quoted values, a quote inside an unquoted value is
    text, text after a closing quote breaks the record, blank lines are no rows; the header is row 1.
    A record breaks (malformed) when it does not split or has another number of fields than the
    header. Empty values are None, as Spark's CSV reader gave them. Raises RawFileProblem."""
    csv.field_size_limit(MAX_FILE_BYTES)  # the default 128 KB would call a long value malformed
    consumed: list[str] = []

    def lines() -> Iterator[str]:
        for line in _text_lines(data, gz):
            consumed.append(line)
            yield line

    # strict: text after a closing quote and a quote open at the end are errors, not values
    reader = csv.reader(lines(), dialect="excel", strict=True)
    width = None
    row = 0
    while True:
        try:
            fields, broken = next(reader), None
        except StopIteration:
            break
        except csv.Error as e:  # the reader goes on at the next line
            fields, broken = None, str(e)
        text = "".join(consumed)
        consumed.clear()
        if fields == []:
            continue
        row += 1
        if width is None:
            if broken:
                raise RawFileProblem(f"the header row does not split into fields ({broken})")
            width = len(fields)
            yield ("header", 1, fields, None)
        elif broken or len(fields) != width:
            yield ("malformed", row, None, _without_line_end(text))
        else:
            yield ("row", row, [v if v != "" else None for v in fields], None)


def _split_files(rows) -> Iterator[tuple]:
    """Executor side: binaryFile rows in, records out; a file-level problem becomes a record too, so
    the driver can fail with one line instead of a task's stack trace."""
    for r in rows:
        try:
            yield from split_csv(bytes(r.content), r.path.lower().endswith(".gz"))
        except RawFileProblem as e:
            yield ("problem", 0, None, str(e))


_RECORDS = T.StructType(
    [
        T.StructField("_kind", T.StringType()),
        T.StructField("_row", T.IntegerType()),
        T.StructField("_fields", T.ArrayType(T.StringType())),
        T.StructField("_text", T.StringType()),
    ]
)


def _read_whole(spark: SparkSession, f: RawFile) -> DataFrame:
    if f.size > MAX_FILE_BYTES:
        raise InvalidRawData(f"{f.path}: {f.size} bytes; one raw file is read whole and may hold at most {MAX_FILE_BYTES} (split it)")
    return spark.read.format("binaryFile").load(_literal(f.path)).select("path", "content")


def read_csv(spark: SparkSession, f: RawFile, entity: str, seq: int) -> DataFrame:
    """One CSV file in the raw shape; a file that cannot be read whole fails the batch, naming it."""
    files = _read_whole(spark, f)
    records = spark.createDataFrame(files.rdd.mapPartitions(_split_files), _RECORDS, verifySchema=False)
    # split once: the checks below read every record, the transform reads them again
    records = records.persist()
    found = records.where(F.col("_kind").isin("header", "problem")).collect()
    problems = [r["_text"] for r in found if r["_kind"] == "problem"]
    headers = [r["_fields"] for r in found if r["_kind"] == "header"]
    if problems:
        records.unpersist()
        # nothing of the batch is written yet: a damaged file fails it whole rather than load part of it
        raise InvalidRawData(f"{f.path}: {problems[0]}; nothing of the batch was written")
    if len(headers) > 1:  # _literal failed to make the path exact
        raise RuntimeError(f"{f.path}: read as {len(headers)} files")
    if not headers:
        records.unpersist()
        return _empty_raw(spark, entity)
    header = normalise_header(headers[0], f.name, entity)
    body = records.where(F.col("_kind").isin("row", "malformed")).select(
        *[F.col("_fields").getItem(i).alias(f"c{i}") for i in range(len(header))],
        F.col("_row"),
        F.col("_text").alias("_malformed"),
    )
    return _shape(body, header, entity, f.name, seq)


def _cell_text(value) -> str | None:
    """An Excel cell as the text a CSV export would hold."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
    return str(value)


def read_xlsx(spark: SparkSession, f: RawFile, entity: str, seq_start: int) -> list[DataFrame]:
    """Every sheet of a workbook, one DataFrame each (source file `book.xlsx[Sheet]`)."""
    try:
        import openpyxl  # noqa: PLC0415 - only needed when a workbook arrives
    except ImportError as e:  # pragma: no cover - depends on the Glue job's modules
        raise InvalidRawData(f"{f.name}: reading .xlsx needs openpyxl (Glue: --additional-python-modules openpyxl==3.1.5)") from e
    content = _read_whole(spark, f).collect()[0]["content"]
    try:
        book = openpyxl.load_workbook(io.BytesIO(bytes(content)), read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - any parse failure is the file's fault
        raise InvalidRawData(f"{f.name}: not a readable .xlsx workbook ({e})") from e
    frames = []
    try:
        for i, sheet in enumerate(book.worksheets):
            rows = [
                (n, [_cell_text(v) for v in r])
                for n, r in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)
                if any(v is not None and str(v).strip() for v in r)
            ]
            if not rows:
                continue  # an empty sheet holds nothing to lose
            source = f"{f.name}[{sheet.title}]"
            header_row, header_cells = rows[0]
            header = normalise_header(header_cells, source, entity)
            width = len(header)
            # row numbers are the sheet's own (blank rows inside the sheet still count)
            body = [(*(cells + [None] * width)[:width], n - header_row + 1) for n, cells in rows[1:]]
            schema = T.StructType(
                [T.StructField(f"c{k}", T.StringType()) for k in range(width)] + [T.StructField("_row", T.IntegerType())]
            )
            frames.append(_shape(spark.createDataFrame(body, schema), header, entity, source, seq_start + i))
    finally:
        book.close()
    return frames


def _empty_raw(spark: SparkSession, entity: str) -> DataFrame:
    fields = [T.StructField(f"raw_{c}", T.StringType()) for c in COLUMNS[entity]]
    fields += [
        T.StructField("_raw", T.StringType()),
        T.StructField("_malformed", T.StringType()),
        T.StructField("_file", T.StringType()),
        T.StructField("_seq", T.IntegerType()),
        T.StructField("_row", T.IntegerType()),
    ]
    return spark.createDataFrame([], T.StructType(fields))


def read_entity(spark: SparkSession, raw_path: str, entity: str, run_date: str) -> DataFrame:
    frames: list[DataFrame] = []
    seq = 0
    for f in list_raw_files(spark, raw_path, entity, run_date):
        if f.name.lower().endswith(".xlsx"):
            sheets = read_xlsx(spark, f, entity, seq)
            frames.extend(sheets)
            seq += max(len(sheets), 1)
        else:
            frames.append(read_csv(spark, f, entity, seq))
            seq += 1
    out = _empty_raw(spark, entity)
    for df in frames:
        out = out.unionByName(df)
    return out


# ---- cleaning and checks --------------------------------------------------------------------------


def _clean(name: str):
    trimmed = F.regexp_replace(F.col(f"raw_{name}"), r"^\s+|\s+$", "")
    return F.when(trimmed == "", F.lit(None)).otherwise(trimmed)


def _kind(column: str) -> str:
    if column.endswith("_id"):
        return "id"
    if column.endswith("_date"):
        return "date"
    if column in ("price", "order_amount"):
        return "money"
    if column == "quantity":
        return "count"
    return "text"


def _parse(column: str):
    """The typed value of a cleaned text, or NULL when the text is not well-formed for its kind."""
    v = F.col(f"v_{column}")
    kind = _kind(column)
    if kind == "id":
        return F.when(v.rlike(INT_RE), F.expr(f"try_cast(v_{column} as bigint)"))
    if kind == "date":
        return F.when(v.rlike(DATE_RE), F.expr(f"try_cast(v_{column} as date)"))
    if kind == "money":
        # Spark rounds decimals half-up; 18 fraction digits survive until the rounding to 2
        return F.when(v.rlike(DECIMAL_RE), F.expr(f"try_cast(round(try_cast(v_{column} as decimal(38,18)), 2) as decimal(10,2))"))
    if kind == "count":
        return F.when(v.rlike(INT_RE), F.expr(f"try_cast(v_{column} as int)"))
    return v


def _checks(entity: str) -> list[tuple[str, object]]:
    """(reason, failing condition) for checks 1-4, in the contract's order, over v_* and p_* columns.

    Each condition reads plain columns computed once, which keeps Spark's generated code small."""
    v = lambda c: F.col(f"v_{c}")  # noqa: E731
    p = lambda c: F.col(f"p_{c}")  # noqa: E731
    if entity == "customers":
        return [("missing_key", p("customer_id").isNull()), ("bad_date", v("join_date").isNotNull() & p("join_date").isNull())]
    if entity == "products":
        return [
            ("missing_key", p("product_id").isNull()),
            ("bad_number", v("price").isNull() | ~v("price").rlike(DECIMAL_RE)),
            ("out_of_range", p("price").isNull() | (p("price") < 0)),  # NULL here: too large for decimal(10,2)
        ]
    return [
        ("missing_key", p("order_id").isNull() | p("customer_id").isNull() | p("product_id").isNull()),
        ("bad_date", p("order_date").isNull() | (v("delivery_date").isNotNull() & p("delivery_date").isNull())),
        (
            "bad_number",
            v("order_amount").isNull() | ~v("order_amount").rlike(DECIMAL_RE) | v("quantity").isNull() | ~v("quantity").rlike(INT_RE),
        ),
        (
            "out_of_range",
            p("order_amount").isNull()
            | (p("order_amount") <= 0)
            | p("quantity").isNull()
            | (p("quantity") <= 0)
            | F.coalesce(p("delivery_date") < p("order_date"), F.lit(False)),
        ),
    ]


def _typed(entity: str) -> list:
    """Silver columns (meaningful for rows without a reason)."""
    out = []
    for c in COLUMNS[entity]:
        if _kind(c) != "text":
            col = F.col(f"p_{c}")
        elif c == "email":
            col = F.lower(F.col(f"v_{c}"))
        elif c == "state":
            col = F.coalesce(F.upper(F.col(f"v_{c}")), F.lit("Unknown"))
        elif c == "city":
            col = F.coalesce(F.col(f"v_{c}"), F.lit("Unknown"))
        else:
            col = F.col(f"v_{c}")
        out.append(col.alias(c))
    return out


def check_entity(raw: DataFrame, entity: str) -> tuple[DataFrame, DataFrame]:
    """Collapses exact duplicates, then gives each row its reason (or none) for checks 0-5.

    Returns (rows with _reason, the collapsed exact duplicates)."""
    raw_cols = [f"raw_{c}" for c in COLUMNS[entity]]
    latest_first = [F.col("_seq").desc(), F.col("_row").desc()]
    # identical raw values collapse onto the last copy, so "last in file order" still holds for it;
    # a malformed line has no values, so its text is what must be identical
    exact = Window.partitionBy(*raw_cols, "_malformed").orderBy(*latest_first)
    ranked = raw.withColumn("_copy", F.row_number().over(exact))
    dups = ranked.where(F.col("_copy") > 1)
    rows = ranked.where(F.col("_copy") == 1).drop("_copy")
    rows = rows.select("*", *[_clean(c).alias(f"v_{c}") for c in COLUMNS[entity]])
    rows = rows.select("*", *[_parse(c).alias(f"p_{c}") for c in COLUMNS[entity] if _kind(c) != "text"])
    checks = [("malformed_row", F.col("_malformed").isNotNull()), *_checks(entity)]
    rows = rows.select("*", *[cond.alias(f"_fails_{reason}") for reason, cond in checks])
    reason = F.lit(None).cast("string")
    for name, _ in reversed(checks):
        reason = F.when(F.col(f"_fails_{name}"), F.lit(name)).otherwise(reason)
    rows = rows.select("*", reason.alias("_reason_row")).drop(*[f"_fails_{n}" for n, _ in checks])
    passed = F.col("_reason_row").isNull()
    # rows that failed 1-4 rank in groups of their own, so they never outrank a valid row
    key = Window.partitionBy(passed, F.col(f"p_{KEY[entity]}")).orderBy(*latest_first)
    rows = rows.withColumn("_rank", F.row_number().over(key))
    duplicate = F.when(passed & (F.col("_rank") > 1), F.lit("duplicate_key"))
    rows = rows.select("*", F.coalesce(F.col("_reason_row"), duplicate).alias("_reason")).drop("_reason_row", "_rank")
    return rows, dups


def known_keys(spark: SparkSession, processed_path: str, table: str, key: str, run_date: str) -> DataFrame | None:
    """Keys of a dimension written by every earlier batch (see module doc); ISO dates sort as text."""
    root = f"{processed_path.rstrip('/')}/gold/{table}"
    folders = [p for name, p, is_dir, _ in list_dir(spark, root) if is_dir and name.startswith("batch_date=") and name < f"batch_date={run_date}"]
    if not folders:
        return None
    return spark.read.parquet(*map(_literal, folders)).select(F.col(key).cast("bigint").alias(key)).distinct()


def resolve_references(spark: SparkSession, orders: DataFrame, dims: dict[str, DataFrame], processed_path: str, run_date: str) -> DataFrame:
    """Gives unknown_customer, then unknown_product, to orders that passed checks 1-5."""
    out = orders
    for entity in ("customers", "products"):
        key = KEY[entity]
        keys = dims[entity].select(F.col(key).alias(f"_known_{key}"))
        earlier = known_keys(spark, processed_path, f"dim_{entity}", key, run_date)
        if earlier is not None:
            keys = keys.unionByName(earlier.select(F.col(key).alias(f"_known_{key}")))
        out = out.join(F.broadcast(keys.distinct()), F.col(f"p_{key}") == F.col(f"_known_{key}"), "left")
    unknown_customer = F.col("_known_customer_id").isNull()
    unknown_product = F.col("_known_product_id").isNull()
    ref = F.when(unknown_customer, F.lit("unknown_customer")).when(unknown_product, F.lit("unknown_product"))
    return out.select(
        *[c for c in orders.columns if c != "_reason"], F.coalesce(F.col("_reason"), ref).alias("_reason")
    )


# ---- outputs --------------------------------------------------------------------------------------


def rejects_frame(rows: DataFrame, entity: str, run_date: str) -> DataFrame:
    return rows.where(F.col("_reason").isNotNull()).select(
        F.lit(run_date).cast("date").alias("batch_date"),
        F.lit(entity).alias("entity"),
        F.col("_file").alias("source_file"),
        F.col("_row").alias("row_number"),
        F.col("_reason").alias("reason"),
        # Redshift VARCHAR holds 65535 bytes; 16000 characters fit even when every one takes four
        F.substring(F.col("_raw"), 1, 16000).alias("raw_record"),
    )


def accepted_frame(rows: DataFrame, entity: str, run_date: str) -> DataFrame:
    return rows.where(F.col("_reason").isNull()).select(
        *_typed(entity),
        F.col("_file").alias("source_file"),
        F.col("_row").alias("source_row"),
        F.lit(run_date).cast("date").alias("batch_date"),
    )


def daily_sales(fact: DataFrame, run_date: str) -> DataFrame:
    return (
        fact.groupBy("order_date")
        .agg(
            F.count(F.lit(1)).alias("total_orders"),
            F.sum("order_amount").cast(T.DecimalType(14, 2)).alias("total_revenue"),
            F.sum(F.col("quantity").cast("bigint")).alias("total_quantity"),
            F.countDistinct("customer_id").alias("unique_customers"),
        )
        .withColumn(
            "avg_order_value", F.round(F.col("total_revenue") / F.col("total_orders"), 2).cast(T.DecimalType(12, 2))
        )
        .withColumn("batch_date", F.lit(run_date).cast("date"))
    )


def _write(df: DataFrame, processed_path: str, layer: str, table: str, run_date: str) -> None:
    # the batch's folder is replaced as a whole, so a rerun leaves exactly one copy of the batch
    df.write.mode("overwrite").parquet(f"{processed_path.rstrip('/')}/{layer}/{table}/batch_date={run_date}")


@dataclass
class Batch:
    silver: dict[str, DataFrame]
    rejects: dict[str, DataFrame]
    gold: dict[str, DataFrame]
    metrics: dict[str, float]


def transform(spark: SparkSession, run_date: str, raw_path: str, processed_path: str) -> Batch:
    """Reads and checks one day; nothing is written (see run)."""
    checked: dict[str, DataFrame] = {}
    dups: dict[str, int] = {}
    for entity in ENTITIES:
        raw = read_entity(spark, raw_path, entity, run_date)
        rows, duplicates = check_entity(raw, entity)
        checked[entity] = rows.cache()
        dups[entity] = duplicates.count()
    silver = {e: accepted_frame(checked[e], e, run_date) for e in ("customers", "products")}
    checked["orders"] = resolve_references(spark, checked["orders"], silver, processed_path, run_date).cache()
    silver["orders"] = accepted_frame(checked["orders"], "orders", run_date)
    for e in ENTITIES:
        silver[e] = silver[e].cache()
    rejects = {e: rejects_frame(checked[e], e, run_date).cache() for e in ENTITIES}

    gold_cols = {
        "dim_customers": ("customers", [*COLUMNS["customers"], "batch_date"]),
        "dim_products": ("products", [*COLUMNS["products"], "batch_date"]),
        "fact_orders": ("orders", [*COLUMNS["orders"], "batch_date"]),
    }
    gold = {t: silver[e].select(*cols) for t, (e, cols) in gold_cols.items()}
    gold["agg_daily_sales"] = daily_sales(gold["fact_orders"], run_date)

    metrics: dict[str, float] = {}
    for e in ENTITIES:
        loaded, rejected = silver[e].count(), rejects[e].count()
        metrics[f"{e}.read"] = loaded + rejected + dups[e]
        metrics[f"{e}.loaded"] = loaded
        metrics[f"{e}.rejected"] = rejected
        metrics[f"{e}.duplicates"] = dups[e]
    revenue = gold["fact_orders"].agg(F.sum("order_amount")).collect()[0][0]
    metrics["orders.revenue"] = float(revenue or 0)
    return Batch(silver, rejects, gold, metrics)


def load_metrics_frame(spark: SparkSession, batch: Batch, run_date: str, etl_run_id: str, started_ms: int, finished_ms: int) -> DataFrame:
    """The batch's counts as one Parquet row, so the warehouse load can fill load_audit by COPY."""
    m = batch.metrics
    fields = [("batch_date", T.DateType()), ("etl_run_id", T.StringType())]
    values: list = [date.fromisoformat(run_date), etl_run_id]
    for e in ENTITIES:
        for kind in ("read", "loaded", "rejected", "duplicates"):
            fields.append((f"{e}_{kind}", T.LongType()))
            values.append(int(m[f"{e}.{kind}"]))
    fields += [("orders_revenue", T.DecimalType(14, 2)), ("transform_started_ms", T.LongType()), ("transform_finished_ms", T.LongType())]
    values += [Decimal(str(m["orders.revenue"])).quantize(Decimal("0.01")), started_ms, finished_ms]
    schema = T.StructType([T.StructField(n, t) for n, t in fields])
    return spark.createDataFrame([tuple(values)], schema).coalesce(1)


def run(spark: SparkSession, run_date: str, raw_path: str, processed_path: str, etl_run_id: str = "local") -> dict[str, float]:
    started_ms = int(time.time() * 1000)
    # Redshift COPY reads every object under a prefix; a _SUCCESS marker there is noise
    spark.sparkContext._jsc.hadoopConfiguration().set("mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
    # decimals as fixed-length bytes, the Parquet layout every reader (Redshift COPY/Spectrum, Hive) takes
    spark.conf.set("spark.sql.parquet.writeLegacyFormat", "true")
    batch = transform(spark, run_date, raw_path, processed_path)
    for e, df in batch.silver.items():
        _write(df, processed_path, "silver", e, run_date)
    for t, df in batch.gold.items():
        _write(df, processed_path, "gold", t, run_date)
    for e, df in batch.rejects.items():
        _write(df, processed_path, "rejects", e, run_date)
    finished_ms = int(time.time() * 1000)
    _write(load_metrics_frame(spark, batch, run_date, etl_run_id, started_ms, finished_ms), processed_path, "gold", "load_metrics", run_date)
    # written last: its presence means the batch's Parquet is complete
    write_text(
        spark,
        f"{processed_path.rstrip('/')}/_metrics/batch_date={run_date}/metrics.json",
        json.dumps(batch.metrics, indent=2, sort_keys=True) + "\n",
    )
    return batch.metrics


# ---- entry point ----------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="ecommerce_etl_job", allow_abbrev=False)
    p.add_argument("--run_date", required=True, help="logical date YYYY-MM-DD")
    p.add_argument("--raw_path", required=True, help="root holding raw/{entity}/{date}/ (s3:// or a folder)")
    p.add_argument("--processed_path", required=True, help="root for silver/, gold/, rejects/, _metrics/")
    p.add_argument("--JOB_RUN_ID", default="local", help="set by Glue")
    # Glue adds its own arguments (--JOB_ID, --TempDir, ...); they are not ours to judge
    args, _ = p.parse_known_args(argv)
    if not re.fullmatch(DATE_RE, args.run_date):
        p.error(f"--run_date must be YYYY-MM-DD, got {args.run_date!r}")
    try:
        date.fromisoformat(args.run_date)
    except ValueError:
        p.error(f"--run_date is not a calendar date: {args.run_date!r}")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    spark = SparkSession.builder.appName(f"ecommerce-etl {args.run_date}").getOrCreate()
    metrics = run(spark, args.run_date, args.raw_path, args.processed_path, args.JOB_RUN_ID)
    print(json.dumps({"run_date": args.run_date, "metrics": metrics}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
