"""One local Spark for the whole pytest run: starting a JVM costs far more than any test here."""

import sys
from pathlib import Path

import pytest

GLUE_DIR = Path(__file__).resolve().parents[1]
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
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
