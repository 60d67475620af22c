"""Runs the rules' Spark rendering (the Glue job's statements) over prepared inputs, for the parity suite.

    python3 spark_rules.py ARTIFACT.json IN_DIR OUT_DIR

IN_DIR holds one folder per step, each with raw_<entity>.parquet and known_<entity>.parquet (the
relations src/rules/verdicts.ts names as inputs). For each step OUT_DIR/<step>.json receives every
entity's verdicts (ord, reason, complete, copies and the typed values as text) and the quality report.
One JVM serves every step: starting Spark costs far more than the steps.
"""

import json
import sys
from pathlib import Path

from pyspark.sql import SparkSession

ENTITIES = ("customers", "products", "orders")


def main(artifact_path: str, in_dir: str, out_dir: str) -> int:
    artifact = json.loads(Path(artifact_path).read_text())
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("rules-parity")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for step in sorted(p for p in Path(in_dir).iterdir() if p.is_dir()):
        for name in ("raw_customers", "raw_products", "raw_orders", "known_customers", "known_products"):
            spark.read.parquet(str(step / f"{name}.parquet")).createOrReplaceTempView(name)
        for s in artifact["statements"]:
            spark.sql(s["select"]).createOrReplaceTempView(s["name"])
        result = {"verdicts": {}, "quality": []}
        for entity in ENTITIES:
            typed = [c for c in spark.table(f"{entity}_verdicts").columns if c.startswith("t_")]
            cols = ", ".join([f"CAST(`{c}` AS STRING) AS `{c}`" for c in typed])
            rows = spark.sql(f"SELECT ord, reason, complete, copies, {cols} FROM {entity}_verdicts ORDER BY ord").collect()
            result["verdicts"][entity] = [r.asDict() for r in rows]
        report = spark.sql("SELECT entity, `check`, value FROM quality_report ORDER BY position").collect()
        result["quality"] = [r.asDict() for r in report]
        (out / f"{step.name}.json").write_text(json.dumps(result))
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
