"""`pricewatch worker`: the Faust worker against a configured broker."""
from __future__ import annotations

import argparse
import os

__all__ = ["register", "run", "apply_overrides"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "worker", help="run a stream worker (settings from PW_* variables or --settings FILE)")
    add_setting_options(parser)
    parser.add_argument("--loglevel", default="info", help="worker log level (default: info)")
    parser.set_defaults(func=run)


def add_setting_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--settings", metavar="FILE", help="TOML settings file (PW_SETTINGS_FILE)")
    parser.add_argument("--broker", help="kafka://HOST:PORT (PW_BROKER)")
    parser.add_argument("--redis-url", help="redis://HOST:PORT/DB, '' disables Redis (PW_REDIS_URL)")
    parser.add_argument("--vllm-base-url", help="OpenAI-compatible base URL, e.g. http://vllm:8000/v1 (PW_VLLM_BASE_URL)")
    parser.add_argument("--extraction", choices=("rules", "hybrid", "llm"), help="dose extraction (PW_EXTRACTION)")
    parser.add_argument("--partitions", type=int, help="partitions of the topics the app creates (PW_PARTITIONS)")
    parser.add_argument("--web-port", type=int, help="port of /metrics (PW_WEB_PORT)")
    parser.add_argument("--app-id", help="consumer group / app id (PW_APP_ID)")


def apply_overrides(args: argparse.Namespace) -> None:
    """Command-line options win over the environment: write them where `Settings.from_env` reads."""
    names = ("settings", "broker", "redis_url", "vllm_base_url", "extraction", "partitions", "web_port", "app_id")
    for name in names:
        value = getattr(args, name, None)
        if value is not None:
            os.environ["PW_SETTINGS_FILE" if name == "settings" else f"PW_{name.upper()}"] = str(value)


def run(args: argparse.Namespace) -> int:
    apply_overrides(args)
    from faust import Worker

    from stream.admin import ensure_topics
    from stream.app import app, settings
    from stream.tables import changelog_topics
    from stream.topics import GROUP_EVENTS_TOPIC, PRODUCT_SOURCES, TOPIC_NAMES

    ensure_topics(settings.broker_hosts, TOPIC_NAMES, partitions=settings.partitions,
                  replication=settings.replication, must_match=(*PRODUCT_SOURCES, GROUP_EVENTS_TOPIC),
                  compacted=changelog_topics())
    worker = Worker(app, loglevel=args.loglevel)
    # Faust's terminal spinner sets the root logger to DEBUG (so every aiokafka debug line builds
    # a record: ~8% of a busy worker's time); a service needs no spinner.
    worker.spinner = None
    worker.execute_from_commandline()
    return 0
