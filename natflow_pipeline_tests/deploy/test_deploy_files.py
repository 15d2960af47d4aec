"""deploy/: what can be checked without a Docker engine or a cluster (neither exists on the test
machine; deploy/README.md says what was and was not run)."""

import importlib
import io
import re
import shutil
import tempfile
import tomllib
from pathlib import Path

import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config
from dockerfile_parse import DockerfileParser

from natflow_pipeline import settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


@pytest.fixture(scope="module")
def dockerfile() -> DockerfileParser:
    return DockerfileParser(fileobj=io.BytesIO((DEPLOY / "Dockerfile").read_bytes()))


def instructions(dockerfile: DockerfileParser, name: str) -> list[str]:
    return [i["value"] for i in dockerfile.structure if i["instruction"] == name]


def test_every_path_the_dockerfile_copies_from_the_context_exists(dockerfile):
    copies = [c for c in instructions(dockerfile, "COPY") if not c.startswith("--from")]
    assert copies, "no COPY from the build context"
    for copy in copies:
        *sources, _destination = [part for part in copy.split() if not part.startswith("--")]
        for source in sources:
            assert (ROOT / source).exists(), (
                f"deploy/Dockerfile copies {source}, which is not in the repository"
            )


def test_the_image_installs_the_lock_without_dev_dependencies_and_with_the_k8s_extra(dockerfile):
    runs = " ".join(instructions(dockerfile, "RUN"))
    assert "uv sync --frozen --no-dev --extra k8s" in runs
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert any(dep.startswith("dagster-k8s==") for dep in extras["k8s"])
    # the same uv as scripts/bootstrap.sh, so the lock is read the same way
    pinned = re.search(r"UV_VERSION=(\S+)", (ROOT / "scripts" / "bootstrap.sh").read_text()).group(
        1
    )
    assert f'"uv=={pinned}"' in runs
    froms = instructions(dockerfile, "FROM")
    assert all(f.startswith("python:3.11-slim") for f in froms), froms


def test_the_image_command_serves_the_code_location_module(dockerfile):
    command = yaml.safe_load(instructions(dockerfile, "CMD")[0])
    module = command[command.index("-m") + 1]
    assert command[:3] == ["dagster", "code-server", "start"]
    assert (
        module
        == tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["dagster"]["module_name"]
    )
    assert hasattr(importlib.import_module(module), "defs")


def test_helm_values_load_the_same_module_and_set_only_known_settings():
    values = yaml.safe_load((DEPLOY / "helm-values.yaml").read_text())
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    args = deployment["dagsterApiGrpcArgs"]
    assert args[args.index("-m") + 1] == "natflow_pipeline.definitions"
    known = {entry.variable for entry in settings.SETTINGS}
    for variable in deployment["env"]:
        assert variable["name"] in known, f"{variable['name']} is read nowhere in natflow_pipeline"
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    # secrets only by reference
    assert "password" not in yaml.safe_dump(values["postgresql"]).lower()


def test_production_instance_config_is_valid_and_matches_the_helm_limits(monkeypatch):
    for name in ("DAGSTER_PG_HOST", "DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"):
        monkeypatch.setenv(name, "x")
    monkeypatch.setenv("DAGSTER_PG_PORT", "5432")
    home = tempfile.mkdtemp()
    try:
        shutil.copy(DEPLOY / "dagster.yaml", home)
        config, _ = dagster_instance_config(home)
    finally:
        shutil.rmtree(home)
    assert "postgres" in config["storage"]
    helm = yaml.safe_load((DEPLOY / "helm-values.yaml").read_text())["concurrency"]
    runs = config["concurrency"]["runs"]
    assert runs["max_concurrent_runs"] == helm["runs"]["maxConcurrentRuns"]
    assert runs["tag_concurrency_limits"] == helm["runs"]["tagConcurrencyLimits"]
    assert config["concurrency"]["pools"]["default_limit"] == helm["pools"]["defaultLimit"]
