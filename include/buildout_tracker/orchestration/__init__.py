"""Airflow wiring: what every DAG shares (`dag_support.py`), the environment of every local
Airflow process (`airflow_env.py`), and the real DAGs of a week run in-process with
`dag.test()` (`dag_runner.py`). The DAG files in `dags/` call into here; the logic they run
is the pipeline's steps."""
