"""The deployment files agree with each other and with the code: compose, Dockerfile, Prometheus, Grafana.

Structure is checked with PyYAML/JSON; `promtool` (Prometheus' own parser) checks the scrape config, the
alert rules and every dashboard query; `docker compose config` runs where a compose client exists.
The live check (every panel returns data from a Prometheus scraping a real worker) is elsewhere.
"""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest
import yaml
from faust.sensors.prometheus import FaustMetrics
from prometheus_client import REGISTRY, CollectorRegistry

import stream.metrics  # noqa: F401  (registers the worker's metrics)
import stream.metrics_extra  # noqa: F401
from stream.settings import Settings
from tests.stream import promql

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "grafana" / "dashboards").glob("*.json"))
DATASOURCE_UID = "pricewatch-prom"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (Debian package prometheus)")


def _yaml(relative: str) -> dict:
    return yaml.safe_load((ROOT / relative).read_text(encoding="utf-8"))


def _exported_metric_names() -> set[str]:
    """Every sample name the worker's /metrics can expose, plus Prometheus' own per-target `up`.

    That is our metrics and the process collector (the default registry) and Faust's sensor
    (`setup_prometheus_sensors` in stream/agents.py), whose names start with the app id.
    """
    suffixes = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created"),
                "summary": ("", "_sum", "_count", "_created"), "gauge": ("",), "info": ("_info",)}
    faust = CollectorRegistry()
    FaustMetrics.create(faust, Settings().app_id.replace("-", "_").replace(".", "_"))
    names = {"up"}
    for family in [*REGISTRY.collect(), *faust.collect()]:
        names |= {family.name + suffix for suffix in suffixes.get(family.type, ("",))}
        names |= {sample.name for sample in family.samples}
    return names


EXPORTED = _exported_metric_names()
ALL_QUERIES = promql.panel_queries(DASHBOARDS)


def _promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def compose() -> dict:
    return _yaml("docker-compose.yml")


class TestCompose:
    def test_has_the_stack_services(self, compose):
        assert set(compose["services"]) == {"kafka", "redis", "worker", "prometheus", "grafana", "vllm"}

    def test_images_are_pinned_to_a_tag(self, compose):
        for name, service in compose["services"].items():
            image = service["image"]
            repository, _, tag = image.rpartition(":")
            assert repository and tag and tag != "latest" and "/" not in tag, f"{name}: {image} is not pinned"

    def test_kafka_image_is_the_version_the_tests_run(self, compose):
        pom = (ROOT / "infra" / "kafka" / "pom.xml").read_text(encoding="utf-8")
        version = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom).group(1)
        assert compose["services"]["kafka"]["image"] == f"apache/kafka:{version}"

    def test_kafka_is_a_single_kraft_node_advertising_the_compose_hostname(self, compose):
        env = compose["services"]["kafka"]["environment"]
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == 1

    def test_only_vllm_needs_the_gpu_profile(self, compose):
        profiles = {name: service.get("profiles") for name, service in compose["services"].items()}
        assert profiles.pop("vllm") == ["gpu"]
        assert not any(profiles.values())

    def test_vllm_reserves_a_gpu_and_serves_the_configured_model(self, compose):
        vllm = compose["services"]["vllm"]
        devices = vllm["deploy"]["resources"]["reservations"]["devices"]
        assert any("gpu" in device["capabilities"] for device in devices)
        assert "--enable-prefix-caching" in vllm["command"]
        assert "--max-model-len=4096" in vllm["command"]
        assert vllm["entrypoint"] == ["vllm", "serve"]
        assert vllm["command"][0] == "${PW_VLLM_MODEL:-Qwen/Qwen2.5-7B-Instruct}"  # `vllm serve MODEL`
        assert compose["services"]["worker"]["environment"]["PW_VLLM_MODEL"] == vllm["command"][0]  # same name served
        assert "8000:8000" in vllm["ports"]

    def test_worker_environment_names_real_settings(self, compose):
        env = compose["services"]["worker"]["environment"]
        known = {f"PW_{field.name.upper()}" for field in fields(Settings)}
        assert set(env) <= known, f"unknown settings: {set(env) - known}"
        assert env["PW_BROKER"] == "kafka://kafka:9092"
        assert env["PW_REDIS_URL"] == "redis://redis:6379/0"
        assert env["PW_VLLM_BASE_URL"] == "http://vllm:8000/v1"

    def test_worker_is_built_here_and_serves_metrics_where_prometheus_scrapes(self, compose):
        worker = compose["services"]["worker"]
        assert worker["build"] == "." and worker["command"] == ["pricewatch", "worker"]
        port = worker["environment"]["PW_WEB_PORT"]
        assert f"{port}:{port}" in worker["ports"]
        scrape = {job["job_name"]: job for job in _yaml("prometheus/prometheus.yml")["scrape_configs"]}
        assert scrape["pricewatch"]["static_configs"][0]["targets"] == [f"worker:{port}"]

    def test_worker_waits_for_healthy_kafka_and_redis_and_vllm_only_when_present(self, compose):
        depends = compose["services"]["worker"]["depends_on"]
        assert depends["kafka"]["condition"] == depends["redis"]["condition"] == "service_healthy"
        assert depends["vllm"]["required"] is False

    def test_every_service_has_a_healthcheck(self, compose):
        for name, service in compose["services"].items():
            assert service["healthcheck"]["test"], name

    def test_depends_on_names_defined_services(self, compose):
        services = compose["services"]
        for name, service in services.items():
            assert set(service.get("depends_on", {})) <= set(services), name

    def test_published_ports(self, compose):
        ports = {name: service.get("ports", []) for name, service in compose["services"].items()}
        assert "9094:9094" in ports["kafka"] and "3000:3000" in ports["grafana"] and "9090:9090" in ports["prometheus"]

    def test_prometheus_and_grafana_mount_the_provisioned_files(self, compose):
        assert "./prometheus:/etc/prometheus:ro" in compose["services"]["prometheus"]["volumes"]
        grafana = compose["services"]["grafana"]["volumes"]
        provider = _yaml("grafana/provisioning/dashboards/pricewatch.yml")["providers"][0]
        assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in grafana
        assert f"./grafana/dashboards:{provider['options']['path']}:ro" in grafana

    def test_named_volumes_are_declared(self, compose):
        declared = set(compose.get("volumes", {}))
        for name, service in compose["services"].items():
            for volume in service.get("volumes", []):
                source = volume.split(":")[0]
                if not source.startswith((".", "/")):
                    assert source in declared, f"{name}: volume {source} not declared"

    def test_docker_compose_config_accepts_it(self, tmp_path):
        docker = shutil.which("docker")
        if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
            pytest.skip("no docker compose client here")
        result = subprocess.run([docker, "compose", "-f", str(ROOT / "docker-compose.yml"), "--profile", "gpu",
                                 "config", "-q"], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr


class TestDockerfile:
    TEXT = (ROOT / "Dockerfile").read_text(encoding="utf-8")

    def test_builds_on_python_311_slim_and_runs_the_worker(self):
        assert self.TEXT.startswith("# ") and "\nFROM python:3.11-slim\n" in self.TEXT
        assert 'CMD ["pricewatch", "worker"]' in self.TEXT
        assert "EXPOSE 6066" in self.TEXT

    def test_copies_every_package_pyproject_installs(self):
        pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
        for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]:
            package = pattern.rstrip("*")
            assert f"COPY {package} ./{package}" in self.TEXT

    def test_dockerignore_keeps_the_context_small_but_not_the_sources(self):
        ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
        assert {".git", ".venv", "tests", "data"} <= ignored
        assert not {"rules", "models", "stream", "pyproject.toml"} & ignored


class TestPrometheus:
    def test_scrapes_the_worker_and_vllm(self):
        jobs = {job["job_name"]: job for job in _yaml("prometheus/prometheus.yml")["scrape_configs"]}
        assert jobs["pricewatch"]["metrics_path"] == "/metrics"
        assert jobs["vllm"]["static_configs"][0]["targets"] == ["vllm:8000"]

    @needs_promtool
    def test_promtool_accepts_the_config_and_its_rules(self):
        result = _promtool("check", "config", str(ROOT / "prometheus" / "prometheus.yml"))
        assert result.returncode == 0, result.stdout + result.stderr
        assert "1 rule files found" in result.stdout + result.stderr

    def test_alert_rules_read_only_exported_metrics(self):
        for group in _yaml("prometheus/alerts.yml")["groups"]:
            for rule in group["rules"]:
                assert promql.metric_names(rule["expr"]) <= EXPORTED, rule["alert"]


class TestGrafanaProvisioning:
    def test_datasource_has_the_fixed_uid_and_points_at_prometheus(self):
        (source,) = _yaml("grafana/provisioning/datasources/prometheus.yml")["datasources"]
        assert (source["uid"], source["type"], source["url"]) == (DATASOURCE_UID, "prometheus", "http://prometheus:9090")

    def test_dashboard_provider_reads_the_dashboard_folder(self):
        (provider,) = _yaml("grafana/provisioning/dashboards/pricewatch.yml")["providers"]
        assert provider["type"] == "file" and provider["options"]["path"] == "/var/lib/grafana/dashboards"


def _build_script():
    spec = importlib.util.spec_from_file_location("build_dashboards", ROOT / "grafana" / "build_dashboards.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TestDashboards:
    def test_both_dashboards_exist_with_unique_uids(self):
        assert [path.name for path in DASHBOARDS] == ["pipeline-health.json", "price-surveillance.json"]
        uids = [json.loads(path.read_text(encoding="utf-8"))["uid"] for path in DASHBOARDS]
        assert len(set(uids)) == len(uids)

    def test_committed_json_is_what_the_build_script_writes(self):
        build = _build_script()
        for name, spec in build.DASHBOARDS.items():
            assert (ROOT / "grafana" / "dashboards" / name).read_text(encoding="utf-8") == build.render(spec), (
                f"{name} is stale: run python grafana/build_dashboards.py")

    @pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
    def test_every_panel_and_target_uses_the_provisioned_datasource(self, path):
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        assert dashboard["panels"]
        for panel in dashboard["panels"]:
            assert panel["datasource"]["uid"] == DATASOURCE_UID, panel["title"]
            assert panel["targets"], panel["title"]
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == DATASOURCE_UID, panel["title"]
        for variable in dashboard["templating"]["list"]:
            assert variable["datasource"]["uid"] == DATASOURCE_UID

    @pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
    def test_panels_have_unique_ids_and_fit_the_grid(self, path):
        panels = json.loads(path.read_text(encoding="utf-8"))["panels"]
        assert len({panel["id"] for panel in panels}) == len(panels)
        for panel in panels:
            grid = panel["gridPos"]
            assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24, panel["title"]

    def test_dashboards_cover_the_issue_panels(self):
        titles = {title.lower() for _, title, _ in ALL_QUERIES}
        for words in ("throughput in", "throughput out", "consumer lag", "end-to-end latency", "dead letters, by",
                      "llm latency", "llm requests and errors", "extraction method mix", "extraction confidence",
                      "alerts over time, by type", "alerts over time, by severity", "top products",
                      "daily cost distribution"):
            assert any(words in title for title in titles), words

    @pytest.mark.parametrize("dashboard, title, expr", ALL_QUERIES, ids=[f"{d}:{t}" for d, t, _ in ALL_QUERIES])
    def test_queries_read_only_metrics_the_worker_exports(self, dashboard, title, expr):
        names = promql.metric_names(expr)
        assert names, expr
        assert names <= EXPORTED, f"unknown metrics {names - EXPORTED} in {expr}"

    def test_variable_queries_read_exported_metrics(self):
        for path in DASHBOARDS:
            for variable in json.loads(path.read_text(encoding="utf-8"))["templating"]["list"]:
                metric = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", variable["query"]["query"]).group(1)
                assert metric in EXPORTED

    @needs_promtool
    def test_every_query_parses_as_promql(self, tmp_path):
        """promtool parses each query for real, as the expression of a recording rule."""
        rules = [{"record": f"panel:query_{n}", "expr": promql.concrete(expr)} for n, (_, _, expr) in enumerate(ALL_QUERIES)]
        path = tmp_path / "panels.rules.yml"
        path.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}), encoding="utf-8")
        result = _promtool("check", "rules", str(path))
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"SUCCESS: {len(rules)} rules found" in result.stdout + result.stderr

    @needs_promtool
    def test_promtool_rejects_a_broken_query(self, tmp_path):
        """The parse check above can fail: a query with an unbalanced bracket is refused."""
        path = tmp_path / "broken.rules.yml"
        path.write_text(yaml.safe_dump({"groups": [{"name": "x", "rules": [
            {"record": "panel:broken", "expr": promql.concrete("sum(rate(pricewatch_events_in_total[$__rate_interval])")},
        ]}]}), encoding="utf-8")
        assert _promtool("check", "rules", str(path)).returncode != 0


class TestPromqlHelpers:
    def test_metric_names_skip_functions_labels_and_grafana_variables(self):
        expr = ('sort_desc(histogram_quantile(0.9, sum by (le, dosage_form) '
                '(increase(pricewatch_daily_cost_cny_bucket{dosage_form=~"$dosage_form"}[$__range]))))')
        assert promql.metric_names(expr) == {"pricewatch_daily_cost_cny_bucket"}

    def test_a_made_up_metric_is_caught(self):
        assert not promql.metric_names("rate(pricewatch_no_such_metric_total[1m])") <= EXPORTED

    def test_panel_queries_lists_every_target(self):
        panels = sum(len(json.loads(p.read_text(encoding="utf-8"))["panels"]) for p in DASHBOARDS)
        assert len(ALL_QUERIES) >= panels
        assert all(expr for _, _, expr in ALL_QUERIES)
