"""Raw input the job must never half-read: damaged gzip, bytes that are not UTF-8, file names that look
like glob patterns, and CSV lines that do not split into the header's fields (reason 0, malformed_row)."""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

import pytest

import ecommerce_etl_job as job

D = "2025-10-27"
CUSTOMERS = "customer_id,first_name,last_name,email,join_date,city,state\n"
PRODUCTS = "product_id,product_name,category,price\n"
ORDERS = "order_id,customer_id,product_id,order_date,order_amount,quantity\n"


def _put(root: Path, entity: str, day: str, name: str, data: str | bytes) -> Path:
    path = root / "raw" / entity / day / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _day(root: Path, day: str = D, *, customers=None, products=None, orders=None) -> None:
    """A small valid day; each argument replaces that entity's files ({name: text or bytes})."""
    defaults = {
        "customers": {"customers.csv": CUSTOMERS + "1,Ada,Lovelace,ada@example.com,2025-01-15,London,ca\n"},
        "products": {"products.csv": PRODUCTS + "10,Widget,Tools,19.99\n"},
        "orders": {"orders.csv": ORDERS + f"100,1,10,{day},19.99,1\n"},
    }
    given = {"customers": customers, "products": products, "orders": orders}
    for entity, files in defaults.items():
        for name, data in (given[entity] or files).items():
            _put(root, entity, day, name, data)


def _rows(spark, folder: Path, *columns: str) -> list[tuple]:
    return sorted(tuple(r[c] for c in columns) for r in spark.read.parquet(job._literal(str(folder))).collect())


def _collect(df, *columns: str) -> list[tuple]:
    return sorted(tuple(r[c] for c in columns) for r in df.select(*columns).collect())


def _transform(spark, rules, lake: Path, day: str = D) -> job.Batch:
    """The day's batch, unwritten: what these tests check is in its frames and metrics."""
    return job.transform(spark, rules, day, str(lake), str(lake.parent / "processed"))


def _nothing_written(processed: Path) -> bool:
    return not processed.exists() or not any(p.is_file() for p in processed.rglob("*"))


# ---- 1. truncated or corrupt gzip ------------------------------------------------------------------

BIG_CUSTOMERS = CUSTOMERS + "".join(f"{i},F{i},L{i},u{i}@example.com,2025-01-01,Austin,tx\n" for i in range(1, 3001))


def _damaged(kind: str) -> bytes:
    good = gzip.compress(BIG_CUSTOMERS.encode(), mtime=0)
    if kind == "first_60_percent":
        return good[: len(good) * 6 // 10]
    if kind == "trailer_cut":  # every row is there, the CRC and length are not
        return good[:-4]
    if kind == "byte_flipped":
        bad = bytearray(good)
        bad[len(bad) // 2] ^= 0x55
        return bytes(bad)
    if kind == "second_member_cut":
        return gzip.compress(BIG_CUSTOMERS[:5000].encode(), mtime=0) + gzip.compress(BIG_CUSTOMERS[5000:].encode(), mtime=0)[:-30]
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["first_60_percent", "trailer_cut", "byte_flipped", "second_member_cut"])
def test_a_truncated_or_corrupt_gzip_fails_the_job_with_one_line_naming_the_file(spark, rules, tmp_path, kind):
    data = _damaged(kind)
    with pytest.raises((EOFError, OSError, zlib.error)):  # what `gzip -t` reports too
        gzip.decompress(data)
    if kind == "first_60_percent":  # the hazard: whole rows sit in what is left
        assert zlib.decompressobj(wbits=31).decompress(data).count(b"\n") > 1000
    lake, processed = tmp_path / "lake", tmp_path / "processed"
    _day(lake, customers={"customers.csv.gz": data})
    with pytest.raises(job.InvalidRawData) as raised:
        job.run(spark, rules, D, str(lake), str(processed))
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("file:") and f"{lake}/raw/customers/{D}/customers.csv.gz: " in message
    assert "truncated or corrupt" in message
    assert _nothing_written(processed)


# ---- 2. file names are data, never patterns --------------------------------------------------------

GLOB_LIKE_ORDERS = {
    # name order decides duplicate_key, so it is spelled out here: ' ' < '*' < '['
    "orders (b).csv": "quantity,order_amount,order_id,customer_id,product_id,order_date\n2,5.00,201,1,10,2025-10-27\n3,6.00,202,1,10,2025-10-27\n",
    "orders*.csv": "order_id,customer_id,product_id,order_date,order_amount,quantity\n203,1,10,2025-10-27,7.00,4\n",
    "orders[1]?{x,y}.csv": "product_id,order_date,order_id,customer_id,quantity,order_amount\n10,2025-10-27,204,1,5,8.00\n",
}


def test_file_names_with_glob_characters_are_read_once_each_by_exact_name(spark, rules, tmp_path):
    lake = tmp_path / "lake"
    _day(lake, orders=GLOB_LIKE_ORDERS)
    batch = _transform(spark, rules, lake)
    metrics = batch.metrics
    assert (metrics["orders.read"], metrics["orders.loaded"], metrics["orders.rejected"], metrics["orders.duplicates"]) == (4, 4, 0, 0)
    got = _collect(batch.silver["orders"], "order_id", "quantity", "order_amount", "source_file", "source_row")
    assert [(o, q, str(a), f, r) for o, q, a, f, r in got] == [
        (201, 2, "5.00", "orders (b).csv", 2),
        (202, 3, "6.00", "orders (b).csv", 3),
        (203, 4, "7.00", "orders*.csv", 2),
        (204, 5, "8.00", "orders[1]?{x,y}.csv", 2),
    ]


def test_lake_and_output_roots_with_glob_characters_are_taken_literally(spark, rules, tmp_path):
    # the second batch reads the first one's dimensions back from <processed>/gold/dim_*/
    lake, processed = tmp_path / "lake [1] {a,b} *?", tmp_path / "out [2] (c)*"
    _day(lake, "2025-10-26")
    _day(
        lake,
        customers={"customers{new}.csv": CUSTOMERS + "2,Alan,Turing,alan@example.com,2025-02-01,Leeds,yo\n"},
        products={"products?.csv": PRODUCTS + "11,Gadget,Tools,5\n"},
        orders={"orders*.csv": ORDERS + "300,1,10,2025-10-27,19.99,1\n301,2,11,2025-10-27,5,1\n302,3,11,2025-10-27,5,1\n"},
    )
    job.run(spark, rules, "2025-10-26", str(lake), str(processed))
    metrics = job.run(spark, rules, D, str(lake), str(processed))
    assert (metrics["orders.loaded"], metrics["orders.rejected"]) == (2, 1)
    rejects = _rows(spark, processed / "rejects" / "orders" / f"batch_date={D}", "source_file", "row_number", "reason")
    assert rejects == [("orders*.csv", 4, "unknown_customer")]


# ---- 3. malformed_row, and text that is not UTF-8 ---------------------------------------------------

MALFORMED = [
    # (row number, line, reason or None for a loaded row); the header is row 1
    (2, "100,1,10,2025-10-27,10.00,1", None),
    (3, "101,1,10,2025-10-27,10.00,1,surplus", "malformed_row"),  # too many fields
    (4, "102,1,10", "malformed_row"),  # too few
    (5, ",1", "malformed_row"),  # too few: reason 0 comes before missing_key
    (6, '103,1,"10"x,2025-10-27,10.00,1', "malformed_row"),  # text after a closing quote
    (7, '104,"a{eol}b",10', "malformed_row"),  # a record spanning lines is one row
    (8, "101,1,10,2025-10-27,10.00,1,surplus", "malformed_row"),  # the same line again: an exact copy of row 3
    (9, "106,1,10,2025-10-27,5.00,2", None),
    (None, "", None),  # a blank line is no row
    (10, "107,,10,2025-10-27,5.00,1", "missing_key"),  # a line that splits keeps its reason
    (11, '"108",1,10,2025-10-27,"5.00,1', "malformed_row"),  # a quote opened and never closed
]


@pytest.mark.parametrize("eol", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_a_line_that_does_not_split_into_the_header_fields_is_a_malformed_row_reject(spark, rules, tmp_path, eol):
    lake = tmp_path / "lake"
    text = eol.join([ORDERS.rstrip("\n"), *(line.format(eol=eol) for _, line, _ in MALFORMED)])  # no line end after the last
    _day(lake, orders={"orders.csv": text})
    batch = _transform(spark, rules, lake)
    metrics = batch.metrics

    assert _collect(batch.silver["orders"], "order_id", "source_row") == [(100, 2), (106, 9)]
    got = _collect(batch.rejects["orders"], "row_number", "reason", "source_file", "raw_record")
    expected = []
    for row, line, reason in MALFORMED:
        if reason == "malformed_row" and row != 3:  # row 3 collapses onto its later copy, row 8
            expected.append((row, reason, "orders.csv", json.dumps({"line": line.format(eol=eol)}, separators=(",", ":"))))
        elif reason == "missing_key":
            expected.append((row, reason, "orders.csv", None))
    assert [(r, why, f) for r, why, f, _ in got] == [(r, why, f) for r, why, f, _ in expected]
    for (row, _, _, raw), (_, _, _, want) in zip(got, expected):
        if want is not None:
            assert json.loads(raw) == json.loads(want), f"row {row}"
    # the well-formed reject keeps the usual shape: the header's names to the raw values
    assert json.loads(got[-2][3]) == {
        "order_id": "107",
        "customer_id": "",
        "product_id": "10",
        "order_date": "2025-10-27",
        "order_amount": "5.00",
        "quantity": "1",
    }
    assert (metrics["orders.read"], metrics["orders.loaded"], metrics["orders.rejected"], metrics["orders.duplicates"]) == (10, 2, 7, 1)


def test_a_file_that_is_not_utf8_fails_the_job_with_one_line_naming_it(spark, rules, tmp_path):
    lake, processed = tmp_path / "lake", tmp_path / "processed"
    latin1 = (CUSTOMERS + "1,Ada,Lovelace,ada@example.com,2025-01-15,London,ca\n2,Zoë,Brontë,zoe@example.com,2025-01-15,Haworth,yo\n").encode("latin-1")
    _day(lake, customers={"customers.csv": latin1})
    with pytest.raises(job.InvalidRawData) as raised:
        job.run(spark, rules, D, str(lake), str(processed))
    message = str(raised.value)
    assert "\n" not in message
    assert f"{lake}/raw/customers/{D}/customers.csv: " in message
    assert "not UTF-8" in message and "line 3" in message
    assert _nothing_written(processed)


def test_utf8_with_a_bom_in_a_gzip_of_several_members_is_read_to_its_end(spark, rules, tmp_path):
    # concatenated members are valid gzip (`cat a.gz b.gz`); a reader stopping after the first loses rows
    text = "\ufeff" + BIG_CUSTOMERS.replace("\n", "\r\n") + "3001,Zoë,Brontë,zoe@example.com,2025-01-15,Haworth,yo\r\n"
    data = text.encode("utf-8")
    lake = tmp_path / "lake"
    _day(lake, customers={"customers.csv.gz": gzip.compress(data[:5000], mtime=0) + gzip.compress(data[5000:], mtime=0)})
    batch = _transform(spark, rules, lake)
    assert (batch.metrics["customers.read"], batch.metrics["customers.loaded"]) == (3001, 3001)
    last = batch.silver["customers"].where("customer_id = 3001")
    assert _collect(last, "first_name", "last_name", "source_row") == [("Zoë", "Brontë", 3002)]


# ---- the splitter on its own (no Spark) -------------------------------------------------------------


def _split(text: str | bytes) -> list[tuple]:
    return list(job.split_csv(text.encode("utf-8") if isinstance(text, str) else text, False))


def test_split_csv_dialect():
    got = _split('a,b,c\r\n1,x"y,3\r\n\r\n"2","q""uote",""\r"3","line\r\nbreak",z\n4,5\n   \n')
    assert got == [
        ("header", 1, ["a", "b", "c"], None),
        ("row", 2, ["1", 'x"y', "3"], None),  # a quote inside an unquoted value is text
        ("row", 3, ["2", 'q"uote', None], None),  # a lone CR ends a line; empty values are NULL
        ("row", 4, ["3", "line\r\nbreak", "z"], None),  # a line end inside quotes is kept as written
        ("malformed", 5, None, "4,5"),
        ("malformed", 6, None, "   "),  # spaces are a value, not a blank line
    ]


def test_split_csv_file_problems():
    with pytest.raises(job.RawFileProblem, match=r"not UTF-8 \(an invalid byte on line 2"):
        _split(b"a,b\n\xff,1\n")
    with pytest.raises(job.RawFileProblem, match=r"not UTF-8 .*NUL"):
        _split(b"a\x00,\x00b\n")
    with pytest.raises(job.RawFileProblem, match=r"truncated or corrupt"):
        list(job.split_csv(gzip.compress(b"a,b\n1,2\n")[:-6], True))
    with pytest.raises(job.RawFileProblem, match=r"truncated or corrupt"):
        list(job.split_csv(b"a,b\n1,2\n", True))  # plain text named .gz
    with pytest.raises(job.RawFileProblem, match=r"header row"):
        _split('"a,b\n')
    assert _split(b"") == [] and _split("\n\r\n") == [] and list(job.split_csv(b"", True)) == []
