# The Buildout Tracker image: the official Airflow image of the locked Airflow version, plus the
# project's locked dependencies (hash-checked), the buildout_tracker package, the DAGs and plugins.
# tests/compose/ checks that this tag matches the apache-airflow pin in requirements.lock.
FROM apache/airflow:3.3.2-python3.11

# The official image refuses `pip install` as root; install into the airflow user's environment.
USER airflow

# Dependencies first, alone, so editing code does not reinstall them. apache-airflow==3.3.2 is in
# the lock, so pip keeps the image's Airflow instead of resolving another one.
COPY --chown=airflow:0 requirements.lock /opt/buildout/requirements.lock
RUN pip install --no-cache-dir --require-hashes -r /opt/buildout/requirements.lock

# The package itself, without dependencies (they are all in the lock). setuptools comes from the
# lock too, so the build needs no unpinned download.
COPY --chown=airflow:0 pyproject.toml README.md /opt/buildout/
COPY --chown=airflow:0 include /opt/buildout/include
RUN pip install --no-cache-dir --no-deps --no-build-isolation /opt/buildout \
 && python -c "import buildout_tracker.settings"

COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 plugins /opt/airflow/plugins

# Mount points of the compose file's named volumes: a new volume takes this ownership, so the
# airflow user (any uid, group 0) can write them without a root init step.
RUN mkdir -p /opt/airflow/auth /opt/airflow/var \
 && chmod -R g+rwX /opt/airflow/auth /opt/airflow/var /opt/airflow/logs

# Recorded in manifests (settings.code_version); .git is not in the build context.
ARG BUILDOUT_GIT_COMMIT=""
ENV BUILDOUT_GIT_COMMIT=${BUILDOUT_GIT_COMMIT} \
    BUILDOUT_VAR_DIR=/opt/airflow/var \
    GX_ANALYTICS_ENABLED=False
