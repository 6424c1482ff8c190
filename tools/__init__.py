"""Typed read tools over Prometheus, Elasticsearch, PagerDuty and Alertmanager (tools issue)."""
