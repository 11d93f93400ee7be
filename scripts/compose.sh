#!/usr/bin/env bash
# The production-like stack (docker-compose.yaml): its settings file and thin wrappers.
#
#   scripts/compose.sh env [--aws] [--force] [--file PATH]
#       Write .env.compose (git-ignored, mode 600) with random secrets, unless it exists.
#       --aws: no MinIO; the buildout_s3 connection reaches AWS S3 with the AWS_* variables of
#       the calling environment (or the instance's role when none are given), and the buckets
#       BUILDOUT_LANDING_BUCKET / BUILDOUT_LAKE_BUCKET must already exist.
#   scripts/compose.sh up [compose up args]     build the image and start the stack (detached)
#   scripts/compose.sh down [compose down args] stop it (add -v to delete its volumes)
#   scripts/compose.sh config                   validate docker-compose.yaml with .env.compose
#   scripts/compose.sh generate [generator args] synthetic deliveries into MinIO's landing bucket
#   scripts/compose.sh <anything else>          passed to docker compose with the right env file
#
# Values already set in the calling environment win over random ones (e.g. a shared
# BUILDOUT_PII_HMAC_KEY, so hashed ids join across deployments).
set -euo pipefail
cd "$(dirname "$0")/.."

ENV_FILE="${COMPOSE_ENV_FILE:-.env.compose}"
PYTHON="${PYTHON:-.venv/bin/python}"

compose() {
  if docker compose version >/dev/null 2>&1; then
    docker compose --env-file "$ENV_FILE" -f docker-compose.yaml "$@"
  elif command -v docker-compose >/dev/null 2>&1; then
    docker-compose --env-file "$ENV_FILE" -f docker-compose.yaml "$@"
  else
    echo "neither 'docker compose' nor 'docker-compose' is installed" >&2
    exit 2
  fi
}

write_env() {
  local aws=0 force=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --aws) aws=1 ;;
      --force) force=1 ;;
      --file) ENV_FILE="$2"; shift ;;
      *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
  done
  if [ -e "$ENV_FILE" ] && [ "$force" = 0 ]; then
    echo "$ENV_FILE exists; keeping it (--force writes a new one, losing its secrets)"
    return 0
  fi
  [ -x "$PYTHON" ] || { echo "no $PYTHON: run make install first" >&2; exit 2; }
  COMPOSE_AWS="$aws" ENV_OUT="$ENV_FILE" "$PYTHON" - <<'PY'
import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

from buildout_tracker.orchestration.airflow_env import connection_env
from buildout_tracker.settings import S3Settings

aws = os.environ["COMPOSE_AWS"] == "1"
env = os.environ
region = env.get("AWS_DEFAULT_REGION") or "us-east-1"
landing = env.get("BUILDOUT_LANDING_BUCKET") or "buildout-landing"
lake = env.get("BUILDOUT_LAKE_BUCKET") or "buildout-lake"
minio_user = "buildout" + secrets.token_hex(4)
minio_password = secrets.token_hex(24)
if aws:
    s3 = S3Settings(
        endpoint_url=None,
        access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
        secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
        region=region,
        landing_bucket=landing,
        lake_bucket=lake,
    )
else:
    s3 = S3Settings("http://minio:9000", minio_user, minio_password, region, landing, lake)
# connection_env reads the HMAC key and the webhook from the environment: the same code that
# builds the connections for `make up` and the system test builds them here.
os.environ["BUILDOUT_PII_HMAC_KEY"] = env.get("BUILDOUT_PII_HMAC_KEY") or secrets.token_hex(32)
conns = connection_env(s3)

values = {
    "COMPOSE_PROJECT_NAME": "buildout",
    "COMPOSE_PROFILES": "" if aws else "minio",
    "AIRFLOW_UID": "50000",
    "AIRFLOW_IMAGE_NAME": "buildout-tracker-airflow:local",
    "AIRFLOW_API_PORT": env.get("AIRFLOW_API_PORT") or "8080",
    "AIRFLOW_ADMIN_USER": "admin",
    "AIRFLOW_ADMIN_PASSWORD": secrets.token_urlsafe(18),
    "AIRFLOW_FERNET_KEY": Fernet.generate_key().decode(),
    "AIRFLOW_JWT_SECRET": secrets.token_hex(32),
    "POSTGRES_PASSWORD": secrets.token_hex(24),
    "REDIS_PASSWORD": secrets.token_hex(24),
    "MINIO_ROOT_USER": minio_user,
    "MINIO_ROOT_PASSWORD": minio_password,
    "MINIO_PORT": env.get("MINIO_PORT") or "9000",
    "AWS_DEFAULT_REGION": region,
    "BUILDOUT_LANDING_BUCKET": landing,
    "BUILDOUT_LAKE_BUCKET": lake,
    "BUILDOUT_CREATE_BUCKETS": "false" if aws else "true",
    "BUILDOUT_QUARANTINE_THRESHOLD": env.get("BUILDOUT_QUARANTINE_THRESHOLD", ""),
    **conns,
}
for name, value in values.items():
    if "'" in value or "\n" in value:
        raise SystemExit(f"{name}: a value with a quote or newline cannot go in an env file")
mode = "AWS S3 (no MinIO)" if aws else "MinIO on 127.0.0.1:" + values["MINIO_PORT"]
lines = [
    "# Written by scripts/compose.sh env (make compose-env); git-ignored; secrets are random.",
    f"# S3: {mode}. docs/production.md explains every name.",
]
# Single quotes: literal in both docker-compose 1.x (python-dotenv) and Compose v2.
lines += [f"{name}='{value}'" for name, value in values.items()]
out = Path(env["ENV_OUT"])
out.touch(mode=0o600)
out.chmod(0o600)
out.write_text("\n".join(lines) + "\n")
print(f"wrote {out} ({mode}); Airflow UI user: admin, password: AIRFLOW_ADMIN_PASSWORD in {out}")
if "AIRFLOW_CONN_BUILDOUT_ALERTS" not in conns:
    print("no BUILDOUT_ALERT_WEBHOOK in the environment: alerts are logged only")
PY
}

need_env() {
  [ -e "$ENV_FILE" ] || write_env
}

env_value() {
  sed -n "s/^$1='\(.*\)'\$/\1/p" "$ENV_FILE"
}

cmd="${1:-help}"
[ $# -gt 0 ] && shift
case "$cmd" in
  env) write_env "$@" ;;
  up)
    need_env
    compose up -d --build "$@"
    echo "Airflow UI: http://127.0.0.1:$(env_value AIRFLOW_API_PORT) (user admin; password: AIRFLOW_ADMIN_PASSWORD in $ENV_FILE)"
    ;;
  down) [ -e "$ENV_FILE" ] && compose down "$@" || echo "no $ENV_FILE: nothing was started with it" ;;
  config) need_env; compose config -q "$@" && echo "docker-compose.yaml: valid with $ENV_FILE" ;;
  generate)
    need_env
    BUILDOUT_S3_ENDPOINT="http://127.0.0.1:$(env_value MINIO_PORT)" \
    AWS_ACCESS_KEY_ID="$(env_value MINIO_ROOT_USER)" \
    AWS_SECRET_ACCESS_KEY="$(env_value MINIO_ROOT_PASSWORD)" \
    AWS_DEFAULT_REGION="$(env_value AWS_DEFAULT_REGION)" \
    BUILDOUT_LANDING_BUCKET="$(env_value BUILDOUT_LANDING_BUCKET)" \
    BUILDOUT_LAKE_BUCKET="$(env_value BUILDOUT_LAKE_BUCKET)" \
      "$PYTHON" -m buildout_tracker.generator "$@"
    ;;
  help|-h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) need_env; compose "$cmd" "$@" ;;
esac
