"""The daily e-commerce ETL as an AWS Glue (Spark) job.

Reads one day's raw partitions, runs the data contract's rules on them and writes silver, gold,
rejects and metrics for that day:

    <processed>/silver/{customers,products,orders}/batch_date=D/*.parquet
    <processed>/gold/{dim_customers,dim_products,fact_orders,agg_daily_sales,product_performance,load_metrics}/batch_date=D/
    <processed>/rejects/{customers,products,orders}/batch_date=D/*.parquet
    <processed>/_metrics/batch_date=D/metrics.json

Arguments: --run_date YYYY-MM-DD --raw_path <root holding raw/> ... see parse_args. Paths may be
s3:// (on Glue) or local folders (tests, local runs with `python3 glue/ecommerce_etl_job.py`).

The rules are not in this file. They are one model in the TypeScript project (src/shared/contract.ts,
src/shared/quality.ts), rendered as Spark SQL by src/rules and handed to the job as a JSON file
(`--rules`, which `pipeline aws setup` uploads beside this script; `npx tsx scripts/render-rules.ts
spark --out FILE` writes one): {model, dialect, columns, keys, statements: [{name, select}]}. The job
refuses a file of another model than `--rules_model`, the version the starting worker was built with.
Python does the I/O only: it reads the raw files into `raw_<entity>` views (every contract column as
text, `malformed_line`, `ord`, lineage), the keys of earlier batches' dimensions into `known_<entity>`,
runs every statement in order as a temp view, and writes `<entity>_verdicts` out: accepted rows
(`reason` NULL) to silver and gold as their `t_<column>` values, the others to rejects, and the
gate's `quality_report` into metrics.json. So the Spark job gives a row the verdict DuckDB (local
backend) and Trino give it: the same statements, rendered per engine. The gold marts (daily sales,
product performance: src/rules/marts.ts) come in the same file (`gold`), each a query over the view
`batch_facts` (the batch's accepted orders), written to gold/<its name>/ with the batch's date.

The script is plain PySpark on purpose: nothing here needs GlueContext or job bookmarks (the
workflow, not Glue, decides what to process), so one file runs unchanged on Glue 5.0 (Spark 3.5.4,
Python 3.11; the version `pipeline aws setup` creates and glue/tests pins) and on a laptop. Keep to
Spark 3.5's API: nothing from Spark 4 (no VARIANT, no Spark-4-only `F.*` helpers).
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
batch's keys (the statements' business) plus those of every EARLIER batch_date folder under
<processed>/gold/dim_*/ (`known_<entity>`, read here; the local backend's rule too). Earlier only, so
rerunning an old date after newer ones gives the result of its first run, as the idempotency rule
asks, instead of accepting orders for customers that came later.
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
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

# The folders the job reads and writes, and the gold table of each entity. Column names, which of
# them a header must hold, keys and every rule come from the rules file (see the module doc).
ENTITIES = ("customers", "products", "orders")
GOLD_TABLE = {"customers": "dim_customers", "products": "dim_products", "orders": "fact_orders"}
RAW_SUFFIXES = (".csv", ".csv.gz", ".xlsx")
RULES_DIALECT = "spark"
# the view the rules file's gold marts read: the batch's accepted orders (src/rules/artifact.ts)
GOLD_FACTS_VIEW = "batch_facts"

# `ord` packs lineage in one sortable number (src/activities/local/verdicts.ts ORD_SCALE): later
# file, then later row, is larger.
ORD_SCALE = 10_000_000_000


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


class RulesProblem(Exception):
    """No rules file of the model the job run expects (missing, not the artifact, another version)."""


@dataclass(frozen=True)
class RawFile:
    path: str  # full path, as Hadoop sees it
    name: str  # file name inside the partition
    size: int = 0  # bytes, as stored


@dataclass(frozen=True)
class Column:
    name: str
    required: bool  # a header must name it


@dataclass(frozen=True)
class Rules:
    """The rules file: the contract's columns and keys, and the Spark statements that judge rows."""

    model: str
    source: str
    columns: dict[str, list[Column]]
    keys: dict[str, str]
    statements: list[tuple[str, str]]  # (name of the relation it defines, its SELECT), in order
    gold: list[tuple[str, str]]  # (gold table, its SELECT over the view GOLD_FACTS_VIEW)
    # Statements the later ones read more than once (small): cached, so each is computed once.
    materialise: frozenset[str] = frozenset()

    def names(self, entity: str) -> list[str]:
        return [c.name for c in self.columns[entity]]


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


def read_text(spark: SparkSession, path: str) -> str | None:
    """A small file's text (UTF-8), or None when there is no such file."""
    fs, hpath = _fs_for(spark, path)
    if not fs.exists(hpath) or fs.getFileStatus(hpath).isDirectory():
        return None
    jvm = spark.sparkContext._jvm
    buffer = jvm.java.io.ByteArrayOutputStream()
    stream = fs.open(hpath)
    try:
        jvm.org.apache.hadoop.io.IOUtils.copyBytes(stream, buffer, 65536, False)
    finally:
        stream.close()
    return buffer.toString("UTF-8")


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


# ---- the rules file ---------------------------------------------------------------------------------

_SETUP_AGAIN = "run `pipeline aws setup` again (it uploads the rules of the release the workers run)"


def parse_rules(text: str | None, source: str, expected_model: str) -> Rules:
    """The rules artifact in `text`; RulesProblem (one line naming both versions) when it is missing,
    not the artifact, or of another model than the job run expects."""

    def refuse(found: str) -> RulesProblem:
        return RulesProblem(f"rules file {source} {found}, but this job run expects rules model {expected_model}: {_SETUP_AGAIN}")

    if text is None:
        raise refuse("does not exist (no rules model)")
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise refuse(f"is not the rules artifact (not JSON: {e})") from None
    model = doc.get("model") if isinstance(doc, dict) else None
    if not isinstance(model, str) or not model:
        raise refuse("is not the rules artifact (no model field)")
    if model != expected_model:
        raise refuse(f"holds rules model {model}")
    try:
        if doc["dialect"] != RULES_DIALECT:
            raise ValueError(f"rendered for {doc['dialect']}, not {RULES_DIALECT}")
        statements = [(str(s["name"]), str(s["select"])) for s in doc["statements"]]
        materialise = frozenset(str(s["name"]) for s in doc["statements"] if s.get("materialise"))
        gold = [(str(s["name"]), str(s["select"])) for s in doc["gold"]]
        columns = {e: [Column(str(c["name"]), bool(c["required"])) for c in cols] for e, cols in doc["columns"].items()}
        keys = {e: str(k) for e, k in doc["keys"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise refuse(f"of model {model} is not the rules artifact ({type(e).__name__}: {e})") from None
    if set(columns) != set(ENTITIES) or set(keys) != set(ENTITIES) or not statements:
        raise refuse(f"of model {model} is not the rules artifact (its entities are {', '.join(columns) or 'none'})")
    return Rules(model, source, columns, keys, statements, gold, materialise)


def load_rules(spark: SparkSession, path: str, expected_model: str) -> Rules:
    """The rules file at `path` (s3:// or local, through Hadoop), checked against the expected model."""
    try:
        text = read_text(spark, path)
    except Exception as e:  # noqa: BLE001 - a storage error (access denied, a bad URI) becomes one line
        first = str(e).strip().splitlines()
        raise RulesProblem(
            f"rules file {path} cannot be read ({first[0] if first else type(e).__name__}); this job run expects rules model {expected_model}"
        ) from None
    return parse_rules(text, path, expected_model)


# ---- reading: every value a string, plus lineage --------------------------------------------------


def normalise_header(names: list, where: str, entity: str, columns: list[Column]) -> list[str]:
    cleaned = [str(n if n is not None else "").replace("\ufeff", "").strip().lower() for n in names]
    seen: set[str] = set()
    for n in cleaned:
        if n and n in seen:
            raise InvalidRawData(f"{where}: column '{n}' appears twice in the header")
        seen.add(n)
    missing = [c.name for c in columns if c.required and c.name not in seen]
    if missing:
        raise InvalidRawData(f"{where}: header lacks {entity} column(s) {', '.join(missing)} (the header has: {', '.join(c for c in cleaned if c)})")
    return cleaned


def _shape(df: DataFrame, header: list[str], columns: list[Column], source: str, seq: int) -> DataFrame:
    """From positional string columns c0..cN (data rows only, with _row and, for CSV, _malformed: the
    text of a line that did not split) to the rules' input shape (see raw_view)."""
    named = [(h, f"c{i}") for i, h in enumerate(header) if h]
    malformed = F.col("_malformed") if "_malformed" in df.columns else F.lit(None).cast("string")
    record = F.to_json(F.struct(*[F.coalesce(F.col(c), F.lit("")).alias(h) for h, c in named]))
    # a malformed line has no fields to name: its text, as the local backend writes it
    raw_json = F.when(malformed.isNotNull(), F.to_json(F.struct(malformed.alias("line")))).otherwise(record)
    by_name = dict(named)
    cols = [(F.col(by_name[c.name]) if c.name in by_name else F.lit(None).cast("string")).alias(c.name) for c in columns]
    row = F.col("_row").cast("int")
    return df.select(
        *cols,
        malformed.alias("malformed_line"),
        (F.lit(seq).cast("bigint") * F.lit(ORD_SCALE) + row.cast("bigint")).alias("ord"),
        raw_json.alias("_raw"),
        F.lit(source).alias("_file"),
        row.alias("_row"),
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
        raise RawFileProblem("truncated or corrupt gzip: the compressed stream ends before its end-of-stream marker (an upload cut short?)") from e
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
            raise RawFileProblem(f"not UTF-8 (an invalid byte on line {n}; Latin-1 or Windows-1252?); save it as UTF-8 (a BOM is allowed)") from e
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
        T.StructField("_record", T.StringType()),
        T.StructField("_row", T.IntegerType()),
        T.StructField("_fields", T.ArrayType(T.StringType())),
        T.StructField("_text", T.StringType()),
    ]
)


def _read_whole(spark: SparkSession, f: RawFile) -> DataFrame:
    if f.size > MAX_FILE_BYTES:
        raise InvalidRawData(f"{f.path}: {f.size} bytes; one raw file is read whole and may hold at most {MAX_FILE_BYTES} (split it)")
    return spark.read.format("binaryFile").load(_literal(f.path)).select("path", "content")


def read_csv(spark: SparkSession, f: RawFile, entity: str, columns: list[Column], seq: int) -> DataFrame:
    """One CSV file in the raw shape; a file that cannot be read whole fails the batch, naming it."""
    files = _read_whole(spark, f)
    records = spark.createDataFrame(files.rdd.mapPartitions(_split_files), _RECORDS, verifySchema=False)
    # split once: the checks below read every record, the transform reads them again
    records = records.persist()
    found = records.where(F.col("_record").isin("header", "problem")).collect()
    problems = [r["_text"] for r in found if r["_record"] == "problem"]
    headers = [r["_fields"] for r in found if r["_record"] == "header"]
    if problems:
        records.unpersist()
        # nothing of the batch is written yet: a damaged file fails it whole rather than load part of it
        raise InvalidRawData(f"{f.path}: {problems[0]}; nothing of the batch was written")
    if len(headers) > 1:  # _literal failed to make the path exact
        raise RuntimeError(f"{f.path}: read as {len(headers)} files")
    if not headers:
        records.unpersist()
        return _empty_raw(spark, columns)
    header = normalise_header(headers[0], f.name, entity, columns)
    body = records.where(F.col("_record").isin("row", "malformed")).select(
        *[F.col("_fields").getItem(i).alias(f"c{i}") for i in range(len(header))],
        F.col("_row"),
        F.col("_text").alias("_malformed"),
    )
    return _shape(body, header, columns, f.name, seq)


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


def read_xlsx(spark: SparkSession, f: RawFile, entity: str, columns: list[Column], seq_start: int) -> list[DataFrame]:
    """Every sheet of a workbook, one DataFrame each (source file `book.xlsx[Sheet]`)."""
    try:
        import openpyxl  # imported here: only needed when a workbook arrives
    except ImportError as e:  # pragma: no cover - depends on the Glue job's modules
        raise InvalidRawData(f"{f.name}: reading .xlsx needs openpyxl (Glue: --additional-python-modules openpyxl==3.1.5)") from e
    content = _read_whole(spark, f).collect()[0]["content"]
    try:
        book = openpyxl.load_workbook(io.BytesIO(bytes(content)), read_only=True, data_only=True)
    except Exception as e:  # any parse failure is the file's fault
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
            header = normalise_header(header_cells, source, entity, columns)
            width = len(header)
            # row numbers are the sheet's own (blank rows inside the sheet still count)
            body = [(*(cells + [None] * width)[:width], n - header_row + 1) for n, cells in rows[1:]]
            schema = T.StructType([T.StructField(f"c{k}", T.StringType()) for k in range(width)] + [T.StructField("_row", T.IntegerType())])
            frames.append(_shape(spark.createDataFrame(body, schema), header, columns, source, seq_start + i))
    finally:
        book.close()
    return frames


def _empty_raw(spark: SparkSession, columns: list[Column]) -> DataFrame:
    fields = [T.StructField(c.name, T.StringType()) for c in columns]
    fields += [
        T.StructField("malformed_line", T.StringType()),
        T.StructField("ord", T.LongType()),
        T.StructField("_raw", T.StringType()),
        T.StructField("_file", T.StringType()),
        T.StructField("_row", T.IntegerType()),
    ]
    return spark.createDataFrame([], T.StructType(fields))


def read_entity(spark: SparkSession, rules: Rules, raw_path: str, entity: str, run_date: str) -> DataFrame:
    """The `raw_<entity>` input of the rules: each contract column under its name as text (NULL when
    the file lacks it), `malformed_line` (a CSV line's text when it did not split), `ord` (later file,
    then later row, is larger), and the lineage the outputs keep: `_file`, `_row`, `_raw` (the record
    as JSON of its header's names)."""
    columns = rules.columns[entity]
    frames: list[DataFrame] = []
    seq = 0
    for f in list_raw_files(spark, raw_path, entity, run_date):
        if f.name.lower().endswith(".xlsx"):
            sheets = read_xlsx(spark, f, entity, columns, seq)
            frames.extend(sheets)
            seq += max(len(sheets), 1)
        else:
            frames.append(read_csv(spark, f, entity, columns, seq))
            seq += 1
    out = _empty_raw(spark, columns)
    for df in frames:
        out = out.unionByName(df)
    return out


def known_keys(spark: SparkSession, rules: Rules, processed_path: str, entity: str, run_date: str) -> DataFrame:
    """The `known_<entity>` input of the rules: keys `k` of the dimension written by every EARLIER
    batch (see module doc; ISO dates sort as text), empty when there is none."""
    root = f"{processed_path.rstrip('/')}/gold/{GOLD_TABLE[entity]}"
    folders = [p for name, p, is_dir, _ in list_dir(spark, root) if is_dir and name.startswith("batch_date=") and name < f"batch_date={run_date}"]
    if not folders:
        return spark.createDataFrame([], T.StructType([T.StructField("k", T.LongType())]))
    return spark.read.parquet(*map(_literal, folders)).select(F.col(rules.keys[entity]).cast("bigint").alias("k")).distinct()


# ---- the rules: every statement as a temp view ---------------------------------------------------


def run_rules(spark: SparkSession, rules: Rules, raw: dict[str, DataFrame], known: dict[str, DataFrame]) -> dict[str, DataFrame]:
    """Registers the inputs and runs each statement in order as a temp view of its name; returns the
    relations by name, the `<entity>_verdicts` ones cached (every output reads them), and those the
    rules mark to materialise."""
    for entity, df in raw.items():
        df.createOrReplaceTempView(f"raw_{entity}")
    for entity, df in known.items():
        df.createOrReplaceTempView(f"known_{entity}")
    verdicts = {f"{e}_verdicts" for e in ENTITIES}
    out: dict[str, DataFrame] = {}
    for name, select in rules.statements:
        df = spark.sql(select)
        if name in verdicts or name in rules.materialise:
            df = df.cache()
        df.createOrReplaceTempView(name)
        out[name] = df
    missing = sorted((verdicts | {"quality_report"}) - set(out))
    if missing:
        raise RulesProblem(f"rules file {rules.source} (model {rules.model}) defines no {', '.join(missing)}: {_SETUP_AGAIN}")
    return out


# ---- outputs --------------------------------------------------------------------------------------


def rejects_frame(verdicts: DataFrame, entity: str, run_date: str) -> DataFrame:
    return verdicts.where(F.col("reason").isNotNull()).select(
        F.lit(run_date).cast("date").alias("batch_date"),
        F.lit(entity).alias("entity"),
        F.col("_file").alias("source_file"),
        F.col("_row").alias("row_number"),
        F.col("reason"),
        # Redshift VARCHAR holds 65535 bytes; 16000 characters fit even when every one takes four
        F.substring(F.col("_raw"), 1, 16000).alias("raw_record"),
    )


def accepted_frame(verdicts: DataFrame, names: list[str], run_date: str) -> DataFrame:
    """Silver: the cleaned and typed values the rules give (`t_<column>`) under the contract's names."""
    return verdicts.where(F.col("reason").isNull()).select(
        *[F.col(f"t_{c}").alias(c) for c in names],
        F.col("_file").alias("source_file"),
        F.col("_row").alias("source_row"),
        F.lit(run_date).cast("date").alias("batch_date"),
    )


def gold_marts(spark: SparkSession, rules: Rules, fact: DataFrame, run_date: str) -> dict[str, DataFrame]:
    """The rules file's gold marts over the batch's accepted orders, each with the batch's date."""
    fact.createOrReplaceTempView(GOLD_FACTS_VIEW)
    return {name: spark.sql(select).withColumn("batch_date", F.lit(run_date).cast("date")) for name, select in rules.gold}


def _write(df: DataFrame, processed_path: str, layer: str, table: str, run_date: str) -> None:
    # the batch's folder is replaced as a whole, so a rerun leaves exactly one copy of the batch
    df.write.mode("overwrite").parquet(f"{processed_path.rstrip('/')}/{layer}/{table}/batch_date={run_date}")


@dataclass
class Batch:
    silver: dict[str, DataFrame]
    rejects: dict[str, DataFrame]
    gold: dict[str, DataFrame]
    metrics: dict[str, float]
    # the gate's report over the verdicts, in report order: {entity, check, value}
    quality: list[dict]
    cached: list[DataFrame]


def transform(spark: SparkSession, rules: Rules, run_date: str, raw_path: str, processed_path: str) -> Batch:
    """Reads one day and runs the rules on it; nothing is written (see run)."""
    raw = {e: read_entity(spark, rules, raw_path, e, run_date) for e in ENTITIES}
    known = {e: known_keys(spark, rules, processed_path, e, run_date) for e in ENTITIES if GOLD_TABLE[e].startswith("dim_")}
    relations = run_rules(spark, rules, raw, known)
    verdicts = {e: relations[f"{e}_verdicts"] for e in ENTITIES}

    silver = {e: accepted_frame(verdicts[e], rules.names(e), run_date).cache() for e in ENTITIES}
    rejects = {e: rejects_frame(verdicts[e], e, run_date).cache() for e in ENTITIES}
    gold = {GOLD_TABLE[e]: silver[e].select(*rules.names(e), "batch_date") for e in ENTITIES}
    gold.update(gold_marts(spark, rules, gold[GOLD_TABLE["orders"]], run_date))

    metrics: dict[str, float] = {}
    for e in ENTITIES:
        counts = (
            verdicts[e]
            .agg(
                F.count(F.when(F.col("reason").isNull(), 1)).alias("loaded"),
                F.count("reason").alias("rejected"),
                F.coalesce(F.sum(F.col("copies") - 1), F.lit(0)).alias("duplicates"),
            )
            .collect()[0]
        )
        loaded, rejected, dups = int(counts["loaded"]), int(counts["rejected"]), int(counts["duplicates"])
        metrics[f"{e}.read"] = loaded + rejected + dups
        metrics[f"{e}.loaded"] = loaded
        metrics[f"{e}.rejected"] = rejected
        metrics[f"{e}.duplicates"] = dups
    revenue = gold[GOLD_TABLE["orders"]].agg(F.sum("order_amount")).collect()[0][0]
    metrics["orders.revenue"] = float(revenue or 0)
    report = relations["quality_report"].orderBy("position").collect()
    quality = [{"entity": r["entity"], "check": r["check"], "value": float(r["value"])} for r in report]
    return Batch(silver, rejects, gold, metrics, quality, [*verdicts.values(), *silver.values(), *rejects.values()])


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


def run(spark: SparkSession, rules: Rules, run_date: str, raw_path: str, processed_path: str, etl_run_id: str = "local") -> dict:
    """Transforms and writes one day; returns what metrics.json holds (the counts, and the gate's
    report under `quality`)."""
    started_ms = int(time.time() * 1000)
    # Redshift COPY reads every object under a prefix; a _SUCCESS marker there is noise
    spark.sparkContext._jsc.hadoopConfiguration().set("mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
    # decimals as fixed-length bytes, the Parquet layout every reader (Redshift COPY/Spectrum, Hive) takes
    spark.conf.set("spark.sql.parquet.writeLegacyFormat", "true")
    batch = transform(spark, rules, run_date, raw_path, processed_path)
    try:
        for e, df in batch.silver.items():
            _write(df, processed_path, "silver", e, run_date)
        for t, df in batch.gold.items():
            _write(df, processed_path, "gold", t, run_date)
        for e, df in batch.rejects.items():
            _write(df, processed_path, "rejects", e, run_date)
        finished_ms = int(time.time() * 1000)
        _write(load_metrics_frame(spark, batch, run_date, etl_run_id, started_ms, finished_ms), processed_path, "gold", "load_metrics", run_date)
    finally:
        for df in batch.cached:
            df.unpersist()
    document = {**batch.metrics, "quality": batch.quality}
    # written last: its presence means the batch's Parquet is complete
    write_text(
        spark,
        f"{processed_path.rstrip('/')}/_metrics/batch_date={run_date}/metrics.json",
        json.dumps(document, indent=2, sort_keys=True) + "\n",
    )
    return document


# ---- entry point ----------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="ecommerce_etl_job", allow_abbrev=False)
    p.add_argument("--run_date", required=True, help="logical date YYYY-MM-DD")
    p.add_argument("--raw_path", required=True, help="root holding raw/{entity}/{date}/ (s3:// or a folder)")
    p.add_argument("--processed_path", required=True, help="root for silver/, gold/, rejects/, _metrics/")
    # not required by argparse: a run without them gets the one-line rules message (see main)
    p.add_argument("--rules", help="the rules file `pipeline aws setup` uploads (s3:// or a file)")
    p.add_argument("--rules_model", help="the rules model version the run expects (the worker's)")
    p.add_argument("--JOB_RUN_ID", default="local", help="set by Glue")
    # Glue adds its own arguments (--JOB_ID, --TempDir, ...); they are not ours to judge
    args, _ = p.parse_known_args(argv)
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", args.run_date):
        p.error(f"--run_date must be YYYY-MM-DD, got {args.run_date!r}")
    try:
        date.fromisoformat(args.run_date)
    except ValueError:
        p.error(f"--run_date is not a calendar date: {args.run_date!r}")
    return args


def main(argv: list[str]) -> int:
    """Runs the job; a missing or mismatched rules file ends it (exit 1) with one line on stderr,
    which is also what Glue shows as the run's error, and no stack trace."""
    args = parse_args(argv)
    if not args.rules or not args.rules_model:
        given = f"it expects rules model {args.rules_model}" if args.rules_model else "no rules model"
        raise SystemExit(f"ecommerce_etl_job: started without --rules and --rules_model ({given}); an older worker? {_SETUP_AGAIN}")
    spark = SparkSession.builder.appName(f"ecommerce-etl {args.run_date}").getOrCreate()
    try:
        rules = load_rules(spark, args.rules, args.rules_model)
    except RulesProblem as e:
        raise SystemExit(f"ecommerce_etl_job: {e}") from None
    metrics = run(spark, rules, args.run_date, args.raw_path, args.processed_path, args.JOB_RUN_ID)
    print(json.dumps({"run_date": args.run_date, "rules_model": rules.model, "metrics": metrics}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
