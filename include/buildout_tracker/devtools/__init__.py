"""Local tooling, not the product: the local S3 lake, the local Airflow of `make up`, the
processes they run as, and the benchmarks of `make bench`."""
