"""Runs the Glue job over a sequence of batches, in order, for the marts parity suite.

    python3 glue_sequence.py RULES.json STEPS.json PROCESSED_DIR SNAPSHOT_DIR

STEPS.json is a list of {name, date, raw}: each step's raw root (holding raw/{entity}/{date}/) as that
step's files left it. The job runs each step into one processed folder, as on AWS (a later batch
sees the gold dimensions of earlier ones; a rerun replaces its date's folders), and after each step
the date's folders are copied to SNAPSHOT_DIR/<name>/<layer>/<table>/batch_date=<date>/: what the
warehouse load of that step reads. One JVM serves every step.
"""

import json
import shutil
import sys
from pathlib import Path

from pyspark.sql import SparkSession

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "glue"))

# found through the path set above
import ecommerce_etl_job as job


def main(rules_path: str, steps_path: str, processed_dir: str, snapshot_dir: str) -> int:
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("marts-parity")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .config("spark.sql.session.timeZone", "UTC")
        # the rules' plans are large, and Spark renders each whole for its listeners: beyond 1 GB of heap on a test driver
        .config("spark.sql.maxPlanStringLength", "100000")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    model = json.loads(Path(rules_path).read_text())["model"]
    rules = job.load_rules(spark, rules_path, model)
    processed = Path(processed_dir)
    for step in json.loads(Path(steps_path).read_text()):
        job.run(spark, rules, step["date"], step["raw"], str(processed), f"jr_{step['name']}")
        for folder in sorted(processed.glob(f"*/*/batch_date={step['date']}")):
            shutil.copytree(folder, Path(snapshot_dir) / step["name"] / folder.relative_to(processed))
        # each Glue run is a process of its own: nothing one step cached is there for the next
        spark.catalog.clearCache()
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
