"""Joining (or starting) the Ray cluster of ``--engine ray``: Ray's start-up knobs and its
connection failures, in one place.

Why each step (measured on Ray 2.60, see the issue's RAY_NOTES):

- A new local instance is started with ``address="local"``: ``ray.init()`` without an address
  would silently join any cluster already running on the machine.
- An address is checked first with a plain TCP connection (5 s): ``ray.init`` hangs for minutes
  on a refused port or an unknown host (and on ``auto`` when the recorded cluster is gone), so
  without the check a typo would look like a hung run.
- Ray's own noise is turned down (usage stats, progress tables, the driver's C++ warnings,
  which can only be silenced by level, and the start-up line that level setting prints): the
  run's own progress and errors stay readable. Failures reach us as exceptions either way. Its
  notices of dead workers and retries stay, but on stderr: stdout is xbench's output.
- The driver's ``benchmark`` package is shipped to the workers (``runtime_env`` ``py_modules``,
  0.7 s once): workers then run exactly the driver's code, whatever a node has installed, so
  results cannot differ by node.
"""

from __future__ import annotations

import logging
import os
import re
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from benchmark.errors import UsageError, XbenchError

INSTALL = "--engine ray: Ray is not installed; pip install 'xbench[ray]'"
CHECK_SECONDS = 5.0  # TCP check of --ray-address
JOIN_SECONDS = "5"  # Ray's own retries once the port answers (wrong token, not a Ray port); its default is 20
QUIET = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_BACKEND_LOG_LEVEL": "fatal", "RAY_DATA_DISABLE_PROGRESS_BARS": "1"}
TOKEN_HINT = "set RAY_AUTH_MODE=token, with the cluster's token in ~/.ray/auth_token or $RAY_AUTH_TOKEN"


@dataclass(frozen=True)
class Cluster:
    """What ``--engine ray`` runs on: where (``address``: "local" for an instance started here),
    whether this process made the connection (and so ends it: ``ray.shutdown``), its CPUs, GPUs."""

    address: str
    owned: bool
    cpus: int
    gpus: int


def import_ray() -> Any:
    """The ``ray`` module (with Ray Data), or the usage error that says how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401  (Ray Data is part of the extra: encoding needs it)
    except ImportError:
        raise UsageError(INSTALL) from None
    return ray


def connect(address: str | None, workers: int | None) -> Cluster:
    """Join the cluster at ``address`` ('auto', host:port, ray://host:port), or start a local
    instance with ``workers`` CPUs (default: this machine's) when ``address`` is None or "local".
    A process already connected (a notebook, a test session) keeps its connection."""
    ray = import_ray()
    if address not in (None, "local", "auto"):
        _host_port(address, address.removeprefix("ray://"))
    for name, value in QUIET.items():
        os.environ.setdefault(name, value)
    owned = not ray.is_initialized()
    if owned:
        options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.ERROR,
                                   "runtime_env": {"py_modules": [str(Path(__file__).resolve().parents[1])]}}
        if address in (None, "local"):
            with _stderr_muted():
                ray.init(address="local", num_cpus=workers or os.cpu_count() or 1, include_dashboard=False, **options)
        else:
            _check_reachable(address)
            _join(ray, address, options)
    _quiet_ray_data()
    _notices_to_stderr()
    resources = ray.cluster_resources()
    return Cluster(address or "local", owned, int(resources.get("CPU", 0)), int(resources.get("GPU", 0)))


def _join(ray: Any, address: str, options: dict[str, Any]) -> None:
    saved = os.environ.get("RAY_gcs_server_port_wait_time_s")
    os.environ["RAY_gcs_server_port_wait_time_s"] = JOIN_SECONDS
    try:
        with _stderr_muted():
            ray.init(address=address, **options)
    except ValueError as error:
        if "ray[client]" in str(error):
            raise UsageError(f"--ray-address {address}: Ray Client is not installed; pip install 'xbench[ray]'") from None
        raise
    except (ConnectionError, RuntimeError) as error:
        raise XbenchError(f"--ray-address {address}: {_join_failure(error)}") from None
    finally:
        if saved is None:
            os.environ.pop("RAY_gcs_server_port_wait_time_s", None)
        else:
            os.environ["RAY_gcs_server_port_wait_time_s"] = saved


def _join_failure(error: BaseException) -> str:
    """Why a reachable cluster could not be joined, in one line."""
    text = " ".join(str(e) for e in _chain(error))
    if "InvalidAuthToken" in text or "Authentication token" in text:
        return f"the cluster refused this driver's authentication token ({TOKEN_HINT})"
    if "ray client connection timeout" in text:
        return f"Ray Client timed out (a cluster with token authentication needs it here too: {TOKEN_HINT})"
    return one_line(error)


def _check_reachable(address: str) -> None:
    """A TCP connection to the address's host and port, or the one-line error naming it."""
    target = address.removeprefix("ray://")
    if address == "auto":
        from ray._private.services import canonicalize_bootstrap_address

        try:
            target = canonicalize_bootstrap_address("auto") or ""
        except ConnectionError:
            raise XbenchError("--ray-address auto: no Ray cluster is running on this machine (start one: ray start --head)") from None
    host, port = _host_port(address, target)
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CHECK_SECONDS).close()
    except socket.gaierror:
        raise XbenchError(f"--ray-address {address}: unknown host {host}") from None
    except ConnectionRefusedError:
        raise XbenchError(f"--ray-address {address}: no Ray cluster at {host}:{port} (connection refused)") from None
    except OSError as error:
        reason = "no answer within 5 s" if isinstance(error, TimeoutError) else error.strerror or str(error)
        raise XbenchError(f"--ray-address {address}: cannot reach {host}:{port} ({reason})") from None


def _host_port(address: str, target: str) -> tuple[str, str]:
    host, colon, port = target.rpartition(":")
    if not colon or not host or not port.isdigit():
        raise UsageError(f"--ray-address {address}: expected 'auto', HOST:PORT or ray://HOST:PORT")
    return host, port


def _quiet_ray_data() -> None:
    from ray.data import DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.CRITICAL)  # its tracebacks: we raise our own one line


def _notices_to_stderr() -> None:
    """Ray prints its notices of dead workers and retried tasks ("(raylet) A worker died ...")
    on stdout; xbench's stdout is its output (tables, --json), so they go to stderr."""
    import ray._private.worker as driver

    printer = driver.print_to_stdstream
    if getattr(printer, "xbench_stderr", False):
        return

    def to_stderr(data: dict, ignore_prefix: bool) -> None:
        printer({**data, "is_err": True}, ignore_prefix)

    to_stderr.xbench_stderr = True  # type: ignore[attr-defined]
    driver.print_to_stdstream = to_stderr


@contextmanager
def _stderr_muted() -> Iterator[None]:
    """fd 2 to /dev/null while Ray starts (its C++ side prints there directly; errors still
    arrive as exceptions)."""
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def one_line(error: BaseException) -> str:
    """A Ray exception as one line: its type and its first non-empty line, without colour codes."""
    lines = [line.strip() for line in _ANSI.sub("", str(error)).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
