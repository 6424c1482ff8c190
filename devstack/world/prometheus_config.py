"""prometheus.yml for the devstack: scrape the world exporter, evaluate the rules, alert.

Start Prometheus with the backfilled blocks already in its data directory:

    prometheus --config.file=prometheus.yml --storage.tsdb.path=DATA
        --storage.tsdb.retention.time=60d --web.listen-address=127.0.0.1:PORT --web.enable-lifecycle

No other flag is needed: Prometheus 2.42 accepts overlapping blocks by default, and the 60-day
retention keeps the 15-day history (the default 15d would start deleting the oldest day).
"""

from __future__ import annotations

from pathlib import Path

import yaml

EXPORTER_JOB = "demo-world"


def render_prometheus_config(exporter_port: int, alertmanager_port: int, rules_file: Path) -> str:
    """The YAML text of prometheus.yml."""
    config = {
        "global": {"scrape_interval": "15s", "evaluation_interval": "15s", "scrape_timeout": "10s"},
        "rule_files": [str(rules_file)],
        "alerting": {
            "alertmanagers": [
                {
                    "api_version": "v2",
                    "static_configs": [{"targets": [f"127.0.0.1:{alertmanager_port}"]}],
                },
            ],
        },
        "scrape_configs": [
            {
                "job_name": EXPORTER_JOB,
                # The world's series carry their own job/instance (like a federation endpoint).
                "honor_labels": True,
                "metrics_path": "/metrics",
                "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"]}],
            },
        ],
    }
    return yaml.safe_dump(config, sort_keys=False)
