"""The Buildout Tracker UI inside Airflow (the plugin `plugins/buildout_ui.py` declares it).

- `paths.py`: the plugin's URLs and which lake keys it may serve (pure).
- `lakeview.py`: what the pages read from the lake, compactly, kept while unchanged.
- `runs.py`: a DAG run from Airflow's metadata DB, and the week(s) it covered.
- `pages.py`, `html.py`: the pages (no script, no personal value).
- `app.py`: the FastAPI app the api-server mounts at `/buildout`, with Airflow's auth.
- `links.py`: the ingest tasks' extra links ("Data Docs", "Feed report").
- `bench.py`: `bench_pages(lake)`, the pages' server time in-process.

Importing this package imports nothing heavy; `app.py` needs FastAPI (the api-server has it).
"""
