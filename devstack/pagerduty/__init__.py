"""A local PagerDuty REST API v2 simulator for the devstack, and the PagerDuty demo world.

Run it with `python -m devstack.pagerduty --dir DIR --port N --token TOKEN
--rate-limit-per-minute N --anchor world.json`; point the official client at it with
`RestApiV2Client(token, verify=DIR/"ca.pem")` and `client.url = "https://127.0.0.1:N"`.
"""

from devstack.pagerduty.server import Simulator, SimulatorServer, make_server, serve
from devstack.pagerduty.world import build_state

__all__ = ["Simulator", "SimulatorServer", "build_state", "make_server", "serve"]
