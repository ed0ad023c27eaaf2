"""Ray for generec's batch jobs: a local cluster by default, an existing one by address.

The environment's pitfalls are handled here, not left to the user:
- usage statistics stay off (`RAY_USAGE_STATS_ENABLED=0`) and the auth mode is explicit
  (`RAY_AUTH_MODE`, `disabled` unless the caller set it: a cluster started with token auth
  needs `RAY_AUTH_MODE=token` and its token in the environment, as Ray documents);
- a local cluster binds to the loopback address only and has no dashboard;
- shutting down is `ray.shutdown()` on what this process started; `ray stop` is never run (it
  ends every Ray process on the machine, other people's too).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from generec.errors import InputError

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class ClusterConfig:
    address: str | None = None  # None: a local cluster (RAY_ADDRESS when set); "host:port" or "ray://host:port"
    num_cpus: int | None = None  # local cluster size (None: every CPU); ignored with an address

    def __post_init__(self) -> None:
        if self.num_cpus is not None and (not isinstance(self.num_cpus, int) or self.num_cpus < 1):
            raise InputError(f"--cpus must be a positive integer, got {self.num_cpus!r}")


def ray_environment() -> dict[str, str]:
    """The variables every Ray process of a job gets (set in this process too)."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    env = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": os.environ["RAY_AUTH_MODE"], "OMP_NUM_THREADS": "1"}
    if os.environ.get("GENEREC_HOME"):
        env["GENEREC_HOME"] = os.environ["GENEREC_HOME"]
    # No secrets here: a runtime environment is cluster metadata that anyone with access to the
    # cluster can read. The database URL reaches the workers as an argument; the Ray token is the
    # nodes' own (RAY_AUTH_TOKEN / RAY_AUTH_TOKEN_PATH where each node was started).
    return env


def _check_reachable(address: str) -> None:
    """InputError unless something listens at `address` (host:port), checked before Ray tries
    (Ray itself waits for minutes on an address where nothing answers)."""
    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"Ray address {address!r}: expected host:port (or ray://host:port), e.g. 127.0.0.1:6379")
    try:
        with socket.create_connection((host, int(port)), timeout=3):
            pass
    except OSError as exc:
        raise InputError(f"Ray address {address!r} is not reachable ({exc.strerror or exc}); start a cluster with "
                         f"`ray start --head` or leave --ray-address out for a local one") from None  # fmt: skip


@contextmanager
def ray_cluster(config: ClusterConfig) -> Iterator[dict]:
    """`with ray_cluster(cfg) as info:` Ray connected (local or at the address), shut down after.
    `info`: address, whether it is local, and its CPUs."""
    env = ray_environment()
    import ray

    address = config.address or os.environ.get("RAY_ADDRESS") or None
    if ray.is_initialized():  # a caller (a test, a notebook) already connected: use it, leave it up
        yield {"address": "existing", "local": False, "cpus": int(ray.cluster_resources().get("CPU", 0))}
        return
    if address in (None, "", "local"):
        ray.init(address="local", num_cpus=config.num_cpus or os.cpu_count() or 1, include_dashboard=False,
                 log_to_driver=False, configure_logging=False, _node_ip_address=LOOPBACK,
                 runtime_env={"env_vars": env})  # fmt: skip
        local = True
    else:
        if not address.startswith("ray://"):
            _check_reachable(address)
        try:
            ray.init(address=address, log_to_driver=False, configure_logging=False, runtime_env={"env_vars": env})
        except (ConnectionError, RuntimeError, TimeoutError) as exc:
            raise InputError(f"Ray address {address!r}: could not connect ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
        local = False
    try:
        yield {"address": address or "local", "local": local, "cpus": int(ray.cluster_resources().get("CPU", 0))}
    finally:
        ray.shutdown()
