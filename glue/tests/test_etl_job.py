"""The Glue job on a local Spark: the data contract, end to end, on real files."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

import ecommerce_etl_job as job
from tables import diff, norm, read_actual, read_expected

REPO = Path(__file__).resolve().parents[2]
SMALL = Path(__file__).parent / "fixtures" / "small"
GOLDEN = REPO / "test" / "fixtures" / "golden"
D = "2025-10-27"

GOLD_TABLES = ("dim_customers", "dim_products", "fact_orders", "agg_daily_sales")

# Every case runs on both datasets; the shared golden one (also checked by the local engine's tests)
# is part of the repository, so a missing one is a failure, never a quietly smaller test run.
DATASETS = ("small", "golden")


def _dataset_root(name: str) -> Path:
    root = SMALL if name == "small" else GOLDEN
    missing = [str(root / d) for d in ("raw", "expected") if not (root / d).is_dir()]
    if missing:
        pytest.fail(f"the {name} dataset is missing: no {' or '.join(missing)}", pytrace=False)
    return root


def _run_date(root: Path) -> str:
    dates = sorted({p.name for p in (root / "raw" / "orders").iterdir() if p.is_dir()})
    return dates[0]


@pytest.fixture(scope="module")
def job_runs(spark, rules, tmp_path_factory):
    """One job run per dataset for the whole module (a run costs seconds of Spark time)."""
    done: dict[str, dict] = {}

    def get(name: str) -> dict:
        if name not in done:
            root = _dataset_root(name)
            run_date = _run_date(root)
            processed = tmp_path_factory.mktemp(f"processed-{name}")
            metrics = job.run(spark, rules, run_date, str(root), str(processed))
            done[name] = {"root": root, "run_date": run_date, "processed": processed, "metrics": metrics}
        return done[name]

    return get


@pytest.fixture(params=DATASETS)
def output(request, job_runs):
    return job_runs(request.param)


@pytest.mark.parametrize("table", GOLD_TABLES)
def test_gold_tables_match_expected(spark, output, table):
    columns, expected = read_expected(output["root"] / "expected" / f"{table}.csv")
    actual = read_actual(spark, str(output["processed"] / "gold" / table / f"batch_date={output['run_date']}"), columns)
    assert actual == expected, f"{table} differs from expected:\n{diff(expected, actual)}"


def _expected_product_performance(root: Path) -> Counter:
    """Per product and order date, from the expected facts: orders, revenue, units, distinct customers
    (an oracle of the mart's rule, not the rendered SQL)."""
    with (root / "expected" / "fact_orders.csv").open(newline="", encoding="utf-8") as f:
        facts = list(csv.DictReader(f))
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in facts:
        groups.setdefault((r["product_id"], r["order_date"]), []).append(r)
    expected: Counter = Counter()
    for (product, day), rows in groups.items():
        revenue = sum(Decimal(r["order_amount"]) for r in rows)
        units = sum(int(r["quantity"]) for r in rows)
        expected[tuple(norm(v) for v in (product, day, len(rows), revenue, units, len({r["customer_id"] for r in rows})))] += 1
    return expected


def test_gold_product_performance_is_the_expected_facts_per_product_and_day(spark, output):
    columns = ["product_id", "order_date", "total_orders", "total_revenue", "total_quantity", "unique_customers"]
    folder = output["processed"] / "gold" / "product_performance" / f"batch_date={output['run_date']}"
    expected = _expected_product_performance(output["root"])
    assert sum(expected.values()) > 3
    actual = read_actual(spark, str(folder), columns)
    assert actual == expected, f"product_performance differs from the expected facts:\n{diff(expected, actual)}"
    dates = {r["batch_date"].isoformat() for r in spark.read.parquet(str(folder)).select("batch_date").collect()}
    assert dates == {output["run_date"]}


def test_rejects_match_expected(spark, output):
    columns, expected = read_expected(output["root"] / "expected" / "rejects.csv")
    folders = [str(output["processed"] / "rejects" / e / f"batch_date={output['run_date']}") for e in job.ENTITIES]
    actual = read_actual(spark, folders, columns)
    assert actual == expected, f"rejects differ from expected:\n{diff(expected, actual)}"


def test_metrics_json_balances_and_matches(output):
    path = output["processed"] / "_metrics" / f"batch_date={output['run_date']}" / "metrics.json"
    written = json.loads(path.read_text())
    assert written == output["metrics"]
    assert isinstance(written.pop("quality"), list)
    for e in job.ENTITIES:
        assert written[f"{e}.read"] == written[f"{e}.loaded"] + written[f"{e}.rejected"] + written[f"{e}.duplicates"], e
    expected = json.loads((output["root"] / "expected" / "metrics.json").read_text())
    assert {k: written.get(k) for k in expected} == expected


ROW_REASONS = ("malformed_row", "missing_key", "bad_date", "bad_number", "out_of_range")


def test_metrics_json_holds_the_gate_report_the_design_formulas_give_over_the_expected_verdicts(output):
    """The Spark gate, comparable with the local and Athena ones: the expected figures come from the
    hand-written expected rejects and counts, not from an engine (as test/local/golden.test.ts)."""
    path = output["processed"] / "_metrics" / f"batch_date={output['run_date']}" / "metrics.json"
    quality = json.loads(path.read_text())["quality"]
    metrics = json.loads((output["root"] / "expected" / "metrics.json").read_text())
    with (output["root"] / "expected" / "rejects.csv").open(newline="", encoding="utf-8") as f:
        rejects = list(csv.DictReader(f))

    def count(entity: str, reasons) -> int:
        return sum(1 for r in rejects if r["entity"] == entity and r["reason"] in reasons)

    def ratio(num: int, den: int) -> float:
        return 1.0 if den == 0 else num / den

    expected = []
    for e in job.ENTITIES:
        n = metrics[f"{e}.read"] - metrics[f"{e}.duplicates"]
        valid = n - count(e, ROW_REASONS)
        expected += [(e, "row_count", n), (e, "completeness", None), (e, "validity", ratio(valid, n))]
        expected.append((e, "key_uniqueness", 1 - ratio(count(e, ["duplicate_key"]), valid)))
        if e == "orders":
            checked = valid - count(e, ["duplicate_key"])
            expected.append((e, "referential_consistency", 1 - ratio(count(e, ["unknown_customer", "unknown_product"]), checked)))
    assert [(q["entity"], q["check"]) for q in quality] == [(e, c) for e, c, _ in expected]
    for q, (e, c, value) in zip(quality, expected):
        if value is None:  # completeness needs the raw values; a share all the same
            assert 0 <= q["value"] <= 1, (e, c)
        else:
            assert q["value"] == pytest.approx(value, abs=1e-12), (e, c)
    if output["root"] == GOLDEN:  # rows 8 and 9 of customers_a.csv lack fields (golden.test.ts too)
        assert quality[1] == {"entity": "customers", "check": "completeness", "value": pytest.approx(11 / 13, abs=1e-12)}


def test_the_golden_dataset_is_there():
    assert (GOLDEN / "expected").is_dir() and (GOLDEN / "raw").is_dir(), f"{GOLDEN} must hold raw/ and expected/"


def test_a_missing_dataset_fails_rather_than_drops_out(monkeypatch, tmp_path):
    monkeypatch.setattr(sys.modules[__name__], "GOLDEN", tmp_path / "golden")
    with pytest.raises(pytest.fail.Exception, match=r"the golden dataset is missing: no .*golden/raw or .*golden/expected"):
        _dataset_root("golden")


def test_silver_keeps_lineage_of_the_winning_row(spark, job_runs):
    processed = job_runs("small")["processed"]
    rows = spark.read.parquet(str(processed / "silver" / "customers" / f"batch_date={D}")).collect()
    lineage = {r["customer_id"]: (r["source_file"], r["source_row"]) for r in rows}
    # customer 1 appears twice, identically: the later copy stands; customer 4's gzip row beats the CSV one
    assert lineage[1] == ("customers.csv", 7)
    assert lineage[4] == ("customers_b.csv.gz", 2)
    products = spark.read.parquet(str(processed / "silver" / "products" / f"batch_date={D}")).collect()
    assert {r["product_id"]: r["source_file"] for r in products}[15] == "products.xlsx[More]"


def _staging_columns(table: str) -> list[str]:
    """Column order of a Redshift staging table, as sql/redshift/ddl.sql declares it."""
    ddl = (REPO / "sql" / "redshift" / "ddl.sql").read_text()
    m = re.search(rf"CREATE TABLE IF NOT EXISTS \{{\{{schema\}}\}}\.{table} \((.*?)\n\)", ddl, re.DOTALL)
    assert m, f"ddl.sql has no {table}"
    body = re.sub(r"--[^\n]*", "", m.group(1))
    return [line.strip().split()[0] for line in body.split(",\n") if line.strip()]


@pytest.mark.parametrize(
    "folder,staging",
    [
        ("gold/dim_customers", "stg_customers"),
        ("gold/dim_products", "stg_products"),
        ("gold/fact_orders", "stg_orders"),
        ("rejects/orders", "stg_rejects"),
        ("gold/load_metrics", "stg_load_metrics"),
    ],
)
def test_parquet_columns_line_up_with_redshift_staging(spark, output, folder, staging):
    # COPY ... FORMAT AS PARQUET maps columns by position, so the order is part of the contract
    df = spark.read.parquet(str(output["processed"] / folder / f"batch_date={output['run_date']}"))
    assert df.columns == _staging_columns(staging)


def test_money_columns_are_decimal_10_2(spark, output):
    from pyspark.sql.types import DecimalType

    fact = spark.read.parquet(str(output["processed"] / "gold" / "fact_orders" / f"batch_date={output['run_date']}"))
    assert fact.schema["order_amount"].dataType == DecimalType(10, 2)
    dim = spark.read.parquet(str(output["processed"] / "gold" / "dim_products" / f"batch_date={output['run_date']}"))
    assert dim.schema["price"].dataType == DecimalType(10, 2)


def test_main_reruns_a_batch_in_place_from_glue_style_arguments(spark, job_runs, rules_file, rules_model, capsys):
    processed = job_runs("small")["processed"]
    fact = processed / "gold" / "fact_orders" / f"batch_date={D}"
    first = sorted(spark.read.parquet(str(fact)).collect())
    argv = ["--JOB_ID", "j_1", "--run_date", D, "--raw_path", str(SMALL), "--processed_path", str(processed)]
    argv += ["--rules", str(rules_file), "--rules_model", rules_model]
    assert job.main([*argv, "--JOB_RUN_ID", "jr_42", "--TempDir", "s3://x/tmp"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (printed["run_date"], printed["rules_model"]) == (D, rules_model)
    # the batch's folders are replaced, not added to
    assert sorted(spark.read.parquet(str(fact)).collect()) == first and len(first) == 6
    audit = spark.read.parquet(str(processed / "gold" / "load_metrics" / f"batch_date={D}")).collect()
    assert [(a["etl_run_id"], a["orders_loaded"]) for a in audit] == [("jr_42", 6)]
    assert not list(processed.rglob("_SUCCESS")), "Redshift COPY would read the _SUCCESS markers"


# ---- the rules file ---------------------------------------------------------------------------------


def _rules_of_another_model(rules_file: Path, tmp_path: Path, model: str = "0123456789abcdef") -> Path:
    doc = json.loads(rules_file.read_text())
    doc["model"] = model
    other = tmp_path / f"rules-{model}.spark.json"
    other.write_text(json.dumps(doc))
    return other


def test_main_refuses_a_rules_file_of_another_model_with_one_line_naming_both(tmp_path, rules_file, rules_model, capsys):
    other = _rules_of_another_model(rules_file, tmp_path)
    argv = ["--run_date", D, "--raw_path", str(SMALL), "--processed_path", str(tmp_path / "out"), "--rules", str(other), "--rules_model", rules_model]
    with pytest.raises(SystemExit) as refused:
        job.main(argv)
    message = str(refused.value.code)
    assert "\n" not in message
    assert f"holds rules model 0123456789abcdef, but this job run expects rules model {rules_model}" in message
    assert str(other) in message and "run `pipeline aws setup` again" in message
    assert not (tmp_path / "out").exists(), "nothing may be written with rules of another model"


def test_the_job_script_refuses_another_model_with_one_line_exit_1_and_no_stack_trace(tmp_path, rules_file, rules_model):
    other = _rules_of_another_model(rules_file, tmp_path)
    argv = ["--run_date", D, "--raw_path", str(SMALL), "--processed_path", str(tmp_path / "out"), "--rules", str(other), "--rules_model", rules_model]
    env = {
        **os.environ,
        "PYSPARK_SUBMIT_ARGS": "--master local[1] --conf spark.ui.enabled=false --conf spark.driver.bindAddress=127.0.0.1 --conf spark.driver.host=127.0.0.1 pyspark-shell",
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = subprocess.run(
        [sys.executable, str(REPO / "glue" / "ecommerce_etl_job.py"), *argv], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    last = done.stderr.strip().splitlines()[-1]
    assert (
        last.startswith("ecommerce_etl_job: rules file ") and f"holds rules model 0123456789abcdef, but this job run expects rules model {rules_model}" in last
    )
    assert not (tmp_path / "out").exists()


def test_main_without_rules_arguments_says_to_run_setup_again(tmp_path):
    with pytest.raises(SystemExit) as refused:
        job.main(["--run_date", D, "--raw_path", str(SMALL), "--processed_path", str(tmp_path)])
    assert "started without --rules and --rules_model" in str(refused.value.code) and "pipeline aws setup" in str(refused.value.code)


@pytest.mark.parametrize(
    "text,found",
    [
        (None, "does not exist"),
        ("{not json", "is not the rules artifact (not JSON"),
        ('{"statements": []}', "is not the rules artifact (no model field)"),
        ('{"model": "m1", "dialect": "spark"}', "of model m1 is not the rules artifact (KeyError"),
        ('{"model": "m1", "dialect": "trino", "statements": [], "columns": {}, "keys": {}}', "rendered for trino, not spark"),
    ],
)
def test_a_missing_file_or_one_that_is_not_the_artifact_is_refused_in_one_line(text, found):
    with pytest.raises(job.RulesProblem) as refused:
        job.parse_rules(text, "s3://b/p/scripts/rules-m1.spark.json", "m1")
    message = str(refused.value)
    assert "\n" not in message and found in message
    assert "expects rules model m1" in message and "pipeline aws setup" in message


def test_load_rules_reads_through_hadoop_and_a_missing_file_names_the_expected_model(spark, rules, rules_file, rules_model, tmp_path):
    assert rules.model == rules_model and [n for n, _ in rules.statements][-1] == "quality_report"
    assert set(rules.columns) == set(job.ENTITIES) and rules.keys["orders"] == rules.names("orders")[0]
    with pytest.raises(job.RulesProblem, match=rf"rules file .*nowhere\.json does not exist .*expects rules model {rules_model}"):
        job.load_rules(spark, str(tmp_path / "nowhere.json"), rules_model)


def _write(root: Path, entity: str, day: str, name: str, text: str) -> None:
    path = root / "raw" / entity / day / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_later_batch_sees_dimensions_written_by_earlier_batches(spark, rules, job_runs, tmp_path):
    processed = tmp_path / "processed"
    shutil.copytree(job_runs("small")["processed"], processed)
    raw = tmp_path / "lake"
    nxt = "2025-10-28"
    _write(
        raw, "customers", nxt, "customers.csv", "customer_id,first_name,last_name,email,join_date,city,state\n6,Lin,Wu,lin@example.com,2025-10-28,Austin,tx\n"
    )
    _write(raw, "products", nxt, "products.csv", "product_id,product_name,category,price\n20,Desk,Home,99\n")
    _write(
        raw,
        "orders",
        nxt,
        "orders.csv",
        "order_id,customer_id,product_id,order_date,order_amount,quantity\n"
        "200,5,15,2025-10-28,25.50,1\n"  # both from the 10-27 batch
        "201,6,20,2025-10-28,99,1\n"  # both from this batch
        "202,2,20,2025-10-28,10,1\n",  # customer 2 was rejected on 10-27, so never reached the warehouse
    )
    metrics = job.run(spark, rules, nxt, str(raw), str(processed))
    assert (metrics["orders.loaded"], metrics["orders.rejected"]) == (2, 1)
    rejects = spark.read.parquet(str(processed / "rejects" / "orders" / f"batch_date={nxt}")).collect()
    assert [(r["row_number"], r["reason"]) for r in rejects] == [(4, "unknown_customer")]
    # a batch without product rejects still leaves a (schema-only) file: COPY fails on an empty prefix
    assert list((processed / "rejects" / "products" / f"batch_date={nxt}").glob("*.parquet"))
    assert spark.read.parquet(str(processed / "rejects" / "products" / f"batch_date={nxt}")).count() == 0


def test_an_earlier_date_rerun_after_later_ones_does_not_see_their_dimensions(spark, rules, job_runs, tmp_path):
    processed = tmp_path / "processed"
    shutil.copytree(job_runs("small")["processed"], processed)
    raw = tmp_path / "lake"
    before = "2025-10-26"
    _write(
        raw,
        "customers",
        before,
        "customers.csv",
        "customer_id,first_name,last_name,email,join_date,city,state\n7,Ana,Ruiz,ana@example.com,2025-10-01,Reno,nv\n",
    )
    _write(raw, "products", before, "products.csv", "product_id,product_name,category,price\n21,Lamp,Home,30\n")
    _write(
        raw,
        "orders",
        before,
        "orders.csv",
        "order_id,customer_id,product_id,order_date,order_amount,quantity\n"
        "300,7,21,2025-10-26,30,1\n"  # both from this batch
        "301,5,21,2025-10-26,30,1\n",  # customer 5 first appears in the later 10-27 batch
    )
    metrics = job.run(spark, rules, before, str(raw), str(processed))
    assert (metrics["orders.loaded"], metrics["orders.rejected"]) == (1, 1)
    rejects = spark.read.parquet(str(processed / "rejects" / "orders" / f"batch_date={before}")).collect()
    assert [(r["row_number"], r["reason"]) for r in rejects] == [(3, "unknown_customer")]


def test_a_header_without_a_required_column_names_file_and_column(spark, rules, tmp_path):
    shutil.copytree(SMALL / "raw", tmp_path / "raw")
    _write(tmp_path, "customers", D, "zz_extra.csv", "customer_id,first_name,last_name,join_date,city,state\n9,A,B,2025-01-01,X,Y\n")
    with pytest.raises(job.InvalidRawData, match=r"zz_extra\.csv: header lacks customers column\(s\) email"):
        job.transform(spark, rules, D, str(tmp_path), str(tmp_path / "processed"))


def test_a_partition_without_files_is_a_clear_error(spark, rules, tmp_path):
    with pytest.raises(job.InvalidRawData, match=r"raw/customers/2025-10-27/: no \.csv, \.csv\.gz or \.xlsx file"):
        job.transform(spark, rules, D, str(tmp_path), str(tmp_path / "processed"))


def test_a_run_date_that_is_no_calendar_date_is_refused():
    with pytest.raises(SystemExit):
        job.parse_args(["--run_date", "2025-02-30", "--raw_path", "x", "--processed_path", "y"])


@pytest.mark.parametrize(
    "cell,text",
    [(None, None), (15, "15"), (25.5, "25.5"), (10.0, "10"), (0.1 + 0.2, "0.30000000000000004"), (True, "true")],
)
def test_excel_cells_read_as_a_csv_export_would_write_them(cell, text):
    assert job._cell_text(cell) == text


def test_excel_dates_read_as_iso_dates():
    from datetime import datetime

    assert job._cell_text(datetime(2025, 10, 27)) == "2025-10-27"
    assert job._cell_text(datetime(2025, 10, 27, 9, 30)) == "2025-10-27 09:30:00"
