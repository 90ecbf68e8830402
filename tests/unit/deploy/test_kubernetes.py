"""deploy/kubernetes/: valid manifests, a Deployment per role that the image and the CLI agree with.

Every document is validated with kubernetes-validate against the official schemas (strict: an
unknown or misspelt field fails) of the oldest Kubernetes release we document and of the newest
the package knows. The Deployments' arguments parse with each subcommand's own parser, probes
reach what the role serves, pods run as the image's user with the container hardening of
docker-compose.yml, and the ConfigMap's configuration loads with the example Secret.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from bridge.config import load_settings
from bridge.delivery.validation import delivery_config_problems
from tests.plugins.deploy import REPO, parse_role

MANIFESTS = REPO / "deploy" / "kubernetes"
OLDEST_RELEASE = "1.30"  # deploy/README.md
ROLES = {"subscriber", "worker", "receiver", "console"}
CONFIG_DIR = "/etc/gws-bridge"


def _documents() -> list[tuple[str, dict[str, Any]]]:
    return [
        (path.name, document)
        for path in sorted(MANIFESTS.glob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if document is not None
    ]


def _kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in _documents() if doc["kind"] == kind}


@dataclass(frozen=True)
class Role:
    deployment: dict[str, Any]
    pod: dict[str, Any]
    container: dict[str, Any]


def _roles() -> dict[str, Role]:
    """Each Deployment by the name of its one container (the role)."""
    found = {}
    for deployment in _kind("Deployment").values():
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        found[container["name"]] = Role(deployment, pod, container)
    return found


@pytest.mark.parametrize("release", [OLDEST_RELEASE, kubernetes_validate.latest_version()])
def test_every_manifest_is_valid_for_the_kubernetes_release(release: str) -> None:
    documents = _documents()
    assert {doc["kind"] for _, doc in documents} == {"ConfigMap", "Secret", "Deployment", "Service"}
    for name, document in documents:
        try:
            kubernetes_validate.validate(document, release, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{name} {document['kind']}: {'.'.join(map(str, exc.path))}: {exc.message}")


def test_a_deployment_per_role_running_that_subcommand_of_this_version() -> None:
    roles = _roles()
    assert set(roles) == ROLES
    version = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    for role, found in roles.items():
        pod, container = found.pod, found.container
        name, args = parse_role(container["args"])
        assert name == role
        assert args.config == f"{CONFIG_DIR}/bridge.toml"
        assert container["image"].rsplit(":", 1)[1] == version, role
        config = next(v for v in pod["volumes"] if v["name"] == "config")
        assert config["configMap"]["name"] in _kind("ConfigMap")
        assert {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True} in container["volumeMounts"]
        [source] = container["envFrom"]
        assert source["secretRef"]["name"] in _kind("Secret")


def _port(container: dict[str, Any], name: str) -> int:
    return int(next(p["containerPort"] for p in container["ports"] if p["name"] == name))


def test_probes_and_scrapes_reach_what_each_role_serves() -> None:
    for role, found in _roles().items():
        container = found.container
        _, args = parse_role(container["args"])
        if role in ("receiver", "console"):
            assert _port(container, "http") == args.port
            assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
            assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
            metrics_port = args.port
            if role == "console":  # it has no /metrics: nothing to scrape
                assert "annotations" not in found.deployment["spec"]["template"]["metadata"]
                continue
        else:  # metrics from a thread: liveness checks the event loop's heartbeat on them
            assert args.metrics_host == "0.0.0.0"
            assert _port(container, "metrics") == args.metrics_port
            assert container["startupProbe"]["httpGet"] == {"path": "/metrics", "port": "metrics"}, role
            command = container["livenessProbe"]["exec"]["command"]
            assert command[:2] == ["gws-bridge", "healthcheck"], role
            _, check = parse_role(command[1:])
            assert check.url == f"http://127.0.0.1:{args.metrics_port}/metrics" and check.max_age > 0, role
            metrics_port = args.metrics_port
        annotations = found.deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(metrics_port), role
        assert annotations["prometheus.io/path"] == "/metrics", role
    services = _kind("Service")
    assert set(services) == {"gws-bridge-receiver", "gws-bridge-console"}
    for role in ("receiver", "console"):
        service, deployment = services[f"gws-bridge-{role}"], _roles()[role].deployment
        assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"], role
        assert [port["targetPort"] for port in service["spec"]["ports"]] == ["http"], role


def test_pods_run_as_the_image_user_read_only_without_capabilities_within_resources() -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    [user] = re.findall(r"^USER (\d+):(\d+)$", dockerfile, re.MULTILINE)
    for role, found in _roles().items():
        pod, container = found.pod, found.container
        assert pod["securityContext"] == {
            "runAsNonRoot": True,
            "runAsUser": int(user[0]),
            "runAsGroup": int(user[1]),
            "seccompProfile": {"type": "RuntimeDefault"},
        }, role
        assert pod["automountServiceAccountToken"] is False, role
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }, role
        # the one writable path, as in docker-compose.yml
        writable = [m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")]
        assert writable == ["/tmp"], role
        tmp = next(v for v in pod["volumes"] if v["name"] == "tmp")
        assert tmp["emptyDir"]["sizeLimit"], role
        resources = container["resources"]
        assert set(resources["requests"]) == {"cpu", "memory"}, role
        assert set(resources["limits"]) == {"memory"}, role  # no CPU limit: throttling stalls the loop


def test_the_configuration_loads_with_the_example_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [config] = _kind("ConfigMap").values()
    [secret] = _kind("Secret").values()
    text = config["data"]["bridge.toml"]
    referenced = set(re.findall(r'password_env = "(\w+)"', text)) | set(re.findall(r'"env:(\w+)"', text))
    missing = referenced - secret["stringData"].keys()
    assert not missing, f"the Secret lacks {sorted(missing)}"
    for key, value in secret["stringData"].items():
        monkeypatch.setenv(key, value)
    (tmp_path / "bridge.toml").write_text(text, encoding="utf-8")
    settings = load_settings(tmp_path / "bridge.toml")
    assert delivery_config_problems(settings) == []
    assert settings.redis_url == secret["stringData"]["GWSB_REDIS_URL"]
    roles = _roles()
    assert roles["receiver"].deployment["spec"]["replicas"] > 1
    assert settings.inbound.store == "redis"  # what several receivers share
    _, console = parse_role(roles["console"].container["args"])
    assert (settings.console.host, settings.console.port) == (console.host, console.port)
    assert settings.console.keys  # nobody could sign in otherwise
    assert roles["worker"].pod["terminationGracePeriodSeconds"] > settings.delivery.task_deadline
