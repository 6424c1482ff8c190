"""The deterministic demo world: scenario facts and generators of metrics, logs, PagerDuty data."""
