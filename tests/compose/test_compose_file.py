"""Checks of docker-compose.yaml and the Dockerfile that run without a Docker engine.

The file is validated by Debian's docker-compose (`config -q`) and against the Compose
specification's JSON schema that package ships; then its interpolated form, with a
.env.compose written by scripts/compose.sh, is compared with what the code reads.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from buildout_tracker import registry, settings
from buildout_tracker.orchestration.airflow_env import connection_env
from buildout_tracker.settings import S3Settings

ROOT = settings.PROJECT_ROOT
COMPOSE_FILE = ROOT / "docker-compose.yaml"
COMPOSE_SH = ROOT / "scripts" / "compose.sh"

AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "flower",
}
REQUIRED_SERVICES = AIRFLOW_SERVICES | {"postgres", "redis", "minio", "bucket-init"}
LONG_RUNNING_AIRFLOW = AIRFLOW_SERVICES - {"airflow-init"}


def _docker_compose() -> str:
    found = shutil.which("docker-compose")
    if found:
        return found
    message = "docker-compose is not installed (bash scripts/system-deps.sh installs it as root)"
    if os.environ.get("CI") == "true":
        pytest.fail(message + "; CI must run this check")
    pytest.skip(message)


def _write_env(path: Path, *args: str, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "COMPOSE_ENV_FILE": str(path),
        "PYTHON": sys.executable,
        **(extra_env or {}),
    }
    subprocess.run(
        ["bash", str(COMPOSE_SH), "env", *args], check=True, env=env, capture_output=True
    )
    values = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            assert value.startswith("'") and value.endswith("'"), line.split("=")[0]
            values[name] = value[1:-1]
    return values


@pytest.fixture(scope="module")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("compose") / ".env.compose"
    clean = {
        k: ""
        for k in (
            "BUILDOUT_PII_HMAC_KEY",
            "BUILDOUT_ALERT_WEBHOOK",
            "AWS_DEFAULT_REGION",
            "BUILDOUT_LANDING_BUCKET",
            "BUILDOUT_LAKE_BUCKET",
        )
    }
    return path, _write_env(path, extra_env=clean)


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def resolved(env_file: tuple[Path, dict[str, str]]) -> dict[str, Any]:
    """The file as docker-compose resolves it: anchors merged, variables interpolated."""
    out = subprocess.run(
        [_docker_compose(), "--env-file", str(env_file[0]), "-f", str(COMPOSE_FILE), "config"],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return yaml.safe_load(out.stdout)


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def test_docker_compose_validates_the_file(env_file: tuple[Path, dict[str, str]]) -> None:
    proc = subprocess.run(
        [
            _docker_compose(),
            "--env-file",
            str(env_file[0]),
            "-f",
            str(COMPOSE_FILE),
            "config",
            "-q",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr


def test_file_matches_the_compose_spec_schema(raw: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    compose_bin = _docker_compose()
    candidates = list(
        Path("/usr/lib/python3/dist-packages/compose/config").glob("compose_spec.json")
    )
    if not candidates:
        pytest.skip(f"no compose_spec.json beside {compose_bin} (not Debian's docker-compose)")
    schema = json.loads(candidates[0].read_text())
    jsonschema.validate(raw, schema)


def test_nothing_works_without_the_generated_secrets(tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    proc = subprocess.run(
        [_docker_compose(), "--env-file", str(empty), "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode != 0
    assert "run make compose-env" in proc.stderr


def test_secrets_are_interpolated_never_literal(raw: dict[str, Any]) -> None:
    secretish = re.compile(
        r"PASSWORD|SECRET|FERNET|_KEY$|^AIRFLOW_CONN_|SQL_ALCHEMY_CONN|BROKER_URL|RESULT_BACKEND|BASIC_AUTH"
    )
    for name, service in raw["services"].items():
        for var, value in _environment(service).items():
            if secretish.search(var) and not var.endswith("_FILE"):
                assert "${" in value, f"{name}: {var} is written in the file"


def test_every_service_the_project_needs_is_present_with_a_healthcheck(
    resolved: dict[str, Any],
) -> None:
    services = resolved["services"]
    assert set(services) >= REQUIRED_SERVICES
    for name in REQUIRED_SERVICES:
        test = services[name].get("healthcheck", {}).get("test")
        assert test and not services[name]["healthcheck"].get("disable"), name
    assert services["airflow-scheduler"]["healthcheck"]["test"][-1].endswith(":8974/health")
    assert services["airflow-apiserver"]["healthcheck"]["test"][-1].endswith("/api/v2/version")
    assert services["flower"]["profiles"] == ["flower"]
    assert services["minio"]["profiles"] == ["minio"]


def test_dependencies_wait_for_health_and_for_init(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    for name in LONG_RUNNING_AIRFLOW:
        deps = services[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy", name
        assert deps["redis"]["condition"] == "service_healthy", name
        assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
    init = services["airflow-init"]["depends_on"]
    assert init["bucket-init"]["condition"] == "service_completed_successfully"
    for name in ("airflow-worker", "airflow-scheduler", "airflow-triggerer"):
        assert services[name]["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"
    for name, service in services.items():
        for dep in service.get("depends_on", {}).values():
            assert dep["condition"] in ("service_healthy", "service_completed_successfully"), name


def test_ports_are_published_on_loopback_only(resolved: dict[str, Any]) -> None:
    published = {}
    for name, service in resolved["services"].items():
        for port in service.get("ports", []):
            text = (
                port
                if isinstance(port, str)
                else f"{port.get('host_ip', '')}:{port.get('published')}"
            )
            assert text.startswith("127.0.0.1:"), f"{name} publishes {port}"
            published[name] = text
    assert "airflow-apiserver" in published
    assert "airflow-worker" not in published, "a fixed port would stop --scale"
    assert "container_name" not in resolved["services"]["airflow-worker"]


def test_airflow_runs_celery_on_postgres_and_redis_without_examples(
    resolved: dict[str, Any], env_file: tuple[Path, dict[str, str]]
) -> None:
    values = env_file[1]
    for name in AIRFLOW_SERVICES:
        env = _environment(resolved["services"][name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false", name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith(
            "postgresql+psycopg2://airflow:"
        )
        assert values["POSTGRES_PASSWORD"] in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        assert (
            env["AIRFLOW__CELERY__BROKER_URL"]
            == f"redis://:{values['REDIS_PASSWORD']}@redis:6379/0"
        )
        assert env["AIRFLOW__CORE__FERNET_KEY"] == values["AIRFLOW_FERNET_KEY"]
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == values["AIRFLOW_JWT_SECRET"]
        assert (
            env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]
            == "http://airflow-apiserver:8080/execution/"
        )
    from cryptography.fernet import Fernet

    Fernet(values["AIRFLOW_FERNET_KEY"].encode())  # a valid key, or this raises


def _names_settings_reads() -> set[str]:
    source = Path(settings.__file__).read_text()
    names = set(re.findall(r'_env\(\s*"([A-Z0-9_]+)"', source))
    if "BUILDOUT_QUARANTINE_THRESHOLD_{feed.upper()}" in source:
        names |= {f"BUILDOUT_QUARANTINE_THRESHOLD_{feed.upper()}" for feed in registry.NAMES}
    return names


def test_environment_matches_what_the_code_reads(
    resolved: dict[str, Any],
    env_file: tuple[Path, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("BUILDOUT_LANDING_BUCKET", "BUILDOUT_LAKE_BUCKET", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    defaults = S3Settings.from_env()
    read = _names_settings_reads()
    assert {"BUILDOUT_LANDING_BUCKET", "BUILDOUT_LAKE_BUCKET", "BUILDOUT_S3_ENDPOINT"} <= read
    values = env_file[1]
    expected_conns = {
        f"AIRFLOW_CONN_{cid.upper()}"
        for cid in (settings.S3_CONN_ID, settings.HMAC_CONN_ID, settings.ALERT_CONN_ID)
    }
    # Inside the stack tasks reach S3, the HMAC key and the webhook through connections only.
    needed = {
        "AWS_DEFAULT_REGION",
        "BUILDOUT_LANDING_BUCKET",
        "BUILDOUT_LAKE_BUCKET",
        "BUILDOUT_QUARANTINE_THRESHOLD",
        *(f"BUILDOUT_QUARANTINE_THRESHOLD_{f.upper()}" for f in registry.NAMES),
    }
    for name in AIRFLOW_SERVICES:
        env = _environment(resolved["services"][name])
        project_names = {k for k in env if k.startswith(("BUILDOUT_", "AWS_"))}
        assert project_names <= read, (
            f"{name} passes names the code never reads: {project_names - read}"
        )
        assert needed <= set(env), f"{name} lacks {needed - set(env)}"
        conns = {k for k in env if k.startswith("AIRFLOW_CONN_")}
        assert conns == expected_conns, name
        assert env["BUILDOUT_LANDING_BUCKET"] == defaults.landing_bucket, name
        assert env["BUILDOUT_LAKE_BUCKET"] == defaults.lake_bucket, name
        assert env["AWS_DEFAULT_REGION"] == defaults.region, name

    # The S3 connection is exactly what the code builds for MinIO, and MinIO gets its credentials.
    worker = _environment(resolved["services"]["airflow-worker"])
    minio = _environment(resolved["services"]["minio"])
    s3 = json.loads(worker["AIRFLOW_CONN_BUILDOUT_S3"])
    want = S3Settings(
        "http://minio:9000",
        minio["MINIO_ROOT_USER"],
        minio["MINIO_ROOT_PASSWORD"],
        "us-east-1",
        "buildout-landing",
        "buildout-lake",
    )
    key = json.loads(worker["AIRFLOW_CONN_BUILDOUT_PII_HMAC"])["password"]
    monkeypatch.setenv("BUILDOUT_PII_HMAC_KEY", key)
    built = connection_env(want)
    assert s3 == json.loads(built[f"AIRFLOW_CONN_{settings.S3_CONN_ID.upper()}"])
    assert s3["extra"]["endpoint_url"] == "http://minio:9000"
    assert (
        len(key) >= 32 and key == json.loads(values["AIRFLOW_CONN_BUILDOUT_PII_HMAC"])["password"]
    )
    # An empty alert connection is "no connection" for Airflow's environment backend.
    assert worker["AIRFLOW_CONN_BUILDOUT_ALERTS"] == ""
    bucket_init = _environment(resolved["services"]["bucket-init"])
    assert bucket_init["AIRFLOW_CONN_BUILDOUT_S3"] == worker["AIRFLOW_CONN_BUILDOUT_S3"]


def test_aws_mode_drops_minio_and_the_endpoint(tmp_path: Path) -> None:
    values = _write_env(
        tmp_path / "aws.env",
        "--aws",
        extra_env={
            "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "example",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "BUILDOUT_LANDING_BUCKET": "acme-landing",
            "BUILDOUT_LAKE_BUCKET": "acme-lake",
            "BUILDOUT_ALERT_WEBHOOK": "https://hooks.example.com/x",
        },
    )
    assert values["COMPOSE_PROFILES"] == ""
    assert values["BUILDOUT_CREATE_BUCKETS"] == "false"
    s3 = json.loads(values["AIRFLOW_CONN_BUILDOUT_S3"])
    assert "endpoint_url" not in s3["extra"]
    assert s3["extra"]["region_name"] == "eu-west-1"
    assert s3["login"] == "AKIAEXAMPLE"
    assert values["BUILDOUT_LANDING_BUCKET"] == "acme-landing"
    assert (
        json.loads(values["AIRFLOW_CONN_BUILDOUT_ALERTS"])["host"] == "https://hooks.example.com/x"
    )


def test_each_env_file_gets_its_own_secrets(
    tmp_path: Path, env_file: tuple[Path, dict[str, str]]
) -> None:
    other = _write_env(tmp_path / "other.env")
    for name in (
        "AIRFLOW_FERNET_KEY",
        "AIRFLOW_JWT_SECRET",
        "POSTGRES_PASSWORD",
        "REDIS_PASSWORD",
        "MINIO_ROOT_PASSWORD",
        "AIRFLOW_ADMIN_PASSWORD",
    ):
        assert other[name] != env_file[1][name], name
    assert (tmp_path / "other.env").stat().st_mode & 0o077 == 0
    # Never overwritten without --force.
    before = (tmp_path / "other.env").read_text()
    _write_env(tmp_path / "other.env")
    assert (tmp_path / "other.env").read_text() == before


def test_the_env_file_is_git_ignored() -> None:
    ignored = (ROOT / ".gitignore").read_text().split()
    assert ".env.compose" in ignored
    assert ".env.*" in (ROOT / ".dockerignore").read_text().split()


def _locked_version(package: str) -> str:
    match = re.search(
        rf"^{re.escape(package)}==([^\s\\]+)", (ROOT / "requirements.lock").read_text(), re.M
    )
    assert match, f"{package} is not pinned in requirements.lock"
    return match.group(1)


def test_image_extends_the_official_image_of_the_locked_airflow() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    froms = re.findall(r"^FROM\s+(\S+)", dockerfile, re.M)
    assert len(froms) == 1
    python = re.search(
        r'requires-python\s*=\s*">=(\d+\.\d+)', (ROOT / "pyproject.toml").read_text()
    )
    assert python
    assert froms[0] == f"apache/airflow:{_locked_version('apache-airflow')}-python{python.group(1)}"
    assert "--require-hashes -r /opt/buildout/requirements.lock" in dockerfile
    assert "--no-deps" in dockerfile


def test_all_airflow_services_run_the_project_image(resolved: dict[str, Any]) -> None:
    images = {resolved["services"][name]["image"] for name in AIRFLOW_SERVICES | {"bucket-init"}}
    assert images == {"buildout-tracker-airflow:local"}
    for name in AIRFLOW_SERVICES | {"bucket-init"}:
        assert resolved["services"][name]["build"]["context"] == str(ROOT)


def test_postgres_major_matches_the_system_test(resolved: dict[str, Any]) -> None:
    # The native system test runs PostgreSQL 15: the stack runs the same major version.
    assert resolved["services"]["postgres"]["image"].startswith("postgres:15")


def test_the_locked_celery_provider_imports_with_the_locked_celery() -> None:
    """The image installs requirements.lock: its CeleryExecutor must import (it does not with
    celery 5.7.0 and apache-airflow-providers-celery 3.26.0: `retry` left celery's DB backend)."""
    proc = subprocess.run(
        [sys.executable, "-c", "import airflow.providers.celery.executors.celery_executor_utils"],
        capture_output=True,
        text=True,
        env={**os.environ, "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor", "PYTHONPATH": ""},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.strip().splitlines()[-1:]
