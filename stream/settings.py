"""One frozen settings object for the worker and the CLI; the environment is read here only.

Every field can be set by an environment variable `PW_<FIELD>` (e.g. `PW_BROKER`), or by a
settings file (`PW_SETTINGS_FILE`, or `--settings FILE` on the CLI) holding `key = value` lines
or a TOML table, with the environment winning over the file.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from rules.errors import ConfigError

__all__ = ["Settings"]


@dataclass(frozen=True, kw_only=True)
class Settings:
    broker: str = "kafka://localhost:9092"          # PW_BROKER; several as kafka://h1:9092;h2:9092
    redis_url: str = "redis://localhost:6379/0"      # PW_REDIS_URL; "" disables the Redis sinks and the LLM cache
    app_id: str = "pricewatch"                       # PW_APP_ID: consumer group and internal topic prefix
    partitions: int = 4                              # PW_PARTITIONS: of the product topics the app creates
    replication: int = 1                             # PW_REPLICATION: replication factor of created topics
    store: str = "memory://"                         # PW_STORE: Faust table store; state comes back from changelogs
    data_dir: str = "var/faust"                      # PW_DATA_DIR
    web_port: int = 6066                             # PW_WEB_PORT: /metrics is served here
    web_enabled: bool = True                         # PW_WEB_ENABLED
    alerts_stream: str = "pricewatch:alerts"         # PW_ALERTS_STREAM: Redis stream (capped) of alerts
    alerts_channel: str = "pricewatch:alerts:live"   # PW_ALERTS_CHANNEL: Redis pub/sub channel
    alerts_stream_maxlen: int = 100_000              # PW_ALERTS_STREAM_MAXLEN: approximate cap of the stream
    extraction: str = "rules"                        # PW_EXTRACTION: rules | hybrid | llm
    vllm_base_url: str = "http://localhost:8000/v1"  # PW_VLLM_BASE_URL
    vllm_model: str = "Qwen/Qwen2.5-7B-Instruct"     # PW_VLLM_MODEL
    vllm_api_key: str = field(default="", repr=False)  # PW_VLLM_API_KEY, never logged
    llm_dialect: str = "vllm"                        # PW_LLM_DIALECT: vllm (json_schema) | llama_cpp (json_object)
    llm_timeout_s: float = 30.0                      # PW_LLM_TIMEOUT_S
    llm_concurrency: int = 8                         # PW_LLM_CONCURRENCY: requests in flight per worker
    llm_confidence_threshold: float = 0.8            # PW_LLM_CONFIDENCE_THRESHOLD: below it, hybrid asks the LLM
    batch_size: int = 64                             # PW_BATCH_SIZE: events a worker extracts concurrently
    batch_window_s: float = 0.05                     # PW_BATCH_WINDOW_S: how long it waits to fill a batch
    group_cache_size: int = 2048                     # PW_GROUP_CACHE_SIZE: peer-group states kept unpickled
                                                     # (~20 KB each; 0 unpickles on every read)
    parked_grace_s: float = 30.0                     # PW_PARKED_GRACE_S: a price change waits this long for
                                                     # its listing (the topics race), then is dead-lettered

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ, *, file: str | Path | None = None) -> Settings:
        """Settings from an optional file, then `PW_*` variables.

        >>> Settings.from_env({"PW_PARTITIONS": "8", "PW_BROKER": "kafka://k:9092"}).partitions
        8
        """
        values: dict[str, Any] = {}
        path = file or env.get("PW_SETTINGS_FILE")
        if path:
            values.update(_read_file(Path(path)))
        values.update({f.name: env[f"PW_{f.name.upper()}"] for f in fields(cls) if f"PW_{f.name.upper()}" in env})
        return cls(**{name: _coerce(cls, name, value) for name, value in values.items()})

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @property
    def broker_hosts(self) -> str:
        """`host:port[,host:port]` for kafka-python, from `kafka://h:p[;h2:p2]`."""
        return ",".join(h.split("://", 1)[-1] for h in self.broker.replace(";", ",").split(",") if h)


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read settings file {path}: {exc}") from exc
    return data.get("pricewatch", data)


def _coerce(cls: type, name: str, value: Any) -> Any:
    known = {f.name: f for f in fields(cls)}
    if name not in known:
        raise ConfigError(f'unknown setting "{name}"; known: {", ".join(sorted(known))}')
    kind = type(known[name].default)
    if isinstance(value, kind):
        return value
    try:
        if kind is bool:
            return str(value).strip().lower() in {"1", "true", "yes", "on"}
        return kind(value)
    except ValueError as exc:
        raise ConfigError(f'setting "{name}" wants {kind.__name__}, got {value!r}') from exc
