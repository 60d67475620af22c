"""One local Spark for the whole pytest run: starting a JVM costs far more than any test here.

The job's rules come from the TypeScript model as the Spark rendering (see the job's module doc):
the file named by env PIPELINE_RULES_FILE (test/glue/pyspark.test.ts renders one for the run), or one
rendered here with `npx tsx scripts/render-rules.ts spark --out <tmp>` from the repository root.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

GLUE_DIR = Path(__file__).resolve().parents[1]
REPO = GLUE_DIR.parent
sys.path.insert(0, str(GLUE_DIR))


def pytest_configure(config):
    # Some PySpark releases warn about pandas 3 on import; the job does not use pandas
    config.addinivalue_line("filterwarnings", "ignore:PySpark does not yet fully support pandas:FutureWarning")


@pytest.fixture(scope="session")
def spark():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("glue-job-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        # a short-lived JVM: quick JIT warm-up beats peak speed on a few hundred rows
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .config("spark.sql.session.timeZone", "UTC")
        # the rules' plans are large, and Spark renders each whole for its listeners: beyond 1 GB of heap on a test driver
        .config("spark.sql.maxPlanStringLength", "100000")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def rules_file(tmp_path_factory) -> Path:
    """The rules artifact the job runs with (Spark SQL rendered from src/shared by src/rules)."""
    given = os.environ.get("PIPELINE_RULES_FILE")
    if given:
        path = Path(given)
        if not path.is_file():
            pytest.fail(f"PIPELINE_RULES_FILE={given} is not a file", pytrace=False)
        return path
    path = tmp_path_factory.mktemp("rules") / "rules.spark.json"
    done = subprocess.run(
        ["npx", "tsx", "scripts/render-rules.ts", "spark", "--out", str(path)], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0 or not path.is_file():
        pytest.fail(f"rendering the rules failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}", pytrace=False)
    return path


@pytest.fixture(scope="session")
def rules_model(rules_file) -> str:
    return json.loads(rules_file.read_text())["model"]


@pytest.fixture(scope="session")
def rules(spark, rules_file, rules_model):
    import ecommerce_etl_job as job

    return job.load_rules(spark, str(rules_file), rules_model)
