"""The code asset, the Docker-free layer build, and the names shared with csms."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from csms_infra import assets, frontdoor, names
from csms_infra.assets import PipLayerBundling, layer_fingerprint, pip_install_command, runtime_requirements

pytestmark = pytest.mark.infra

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_layer_holds_exactly_the_runtime_dependencies_of_pyproject() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())

    assert runtime_requirements() == tuple(pyproject["project"]["dependencies"])


def test_pip_installs_arm64_cpython_313_wheels_only() -> None:
    command = pip_install_command(Path("/out/python"), ["boto3>=1.40"], python="python3")

    assert command[:4] == ["python3", "-m", "pip", "install"]
    assert "--only-binary=:all:" in command
    assert command[command.index("--python-version") + 1] == "3.13"
    assert command[command.index("--implementation") + 1] == "cp"
    assert command[command.index("--target") + 1] == "/out/python"
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert platforms == ["manylinux2014_aarch64", "manylinux_2_28_aarch64"]
    assert command[-1] == "boto3>=1.40"


def test_the_layer_hash_follows_the_requirements_and_nothing_else() -> None:
    requirements = ["boto3>=1.40", "ocpp==2.1.0"]

    assert layer_fingerprint(requirements) == layer_fingerprint(list(requirements))
    assert layer_fingerprint(requirements) != layer_fingerprint([*requirements, "httpx"])


def test_local_bundling_runs_pip_into_python_and_prunes_scripts(tmp_path: Path) -> None:
    # Given a pip that "installs" a package and a console script
    calls: list[list[str]] = []

    def fake_pip(command: list[str], *, check: bool) -> Any:
        calls.append(command)
        target = Path(command[command.index("--target") + 1])
        (target / "ocpp").mkdir(parents=True)
        (target / "ocpp" / "__init__.py").write_text("")
        (target / "bin").mkdir()
        (target / "bin" / "alembic").write_text("#!/host/python\n")
        assert check

    bundling = PipLayerBundling(["ocpp==2.1.0"], runner=fake_pip)

    # When CDK asks for the bundle
    done = bundling.try_bundle(str(tmp_path))

    # Then pip filled python/ (where Lambda looks for layer packages), minus host scripts
    assert done is True
    assert len(calls) == 1
    assert calls[0][-1] == "ocpp==2.1.0"
    assert (tmp_path / "python" / "ocpp" / "__init__.py").is_file()
    assert not (tmp_path / "python" / "bin").exists()


def test_the_code_asset_holds_csms_and_functions_without_caches(tmp_path: Path) -> None:
    # Given a checkout with bytecode caches lying around
    repo = tmp_path / "repo"
    (repo / "src" / "csms" / "__pycache__").mkdir(parents=True)
    (repo / "src" / "csms" / "__init__.py").write_text("")
    (repo / "src" / "csms" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"")
    (repo / "functions" / "connect").mkdir(parents=True)
    (repo / "functions" / "connect" / "handler.py").write_text("def lambda_handler(e, c): ...\n")

    staged = assets.stage_code(tmp_path / "out", repo)

    assert (staged / "csms" / "__init__.py").is_file()
    assert (staged / "functions" / "connect" / "handler.py").is_file()
    assert not list(staged.rglob("__pycache__"))


def test_environment_variable_names_come_from_the_settings_model() -> None:
    assert names.Env.CONNECTIONS_TABLE == "CSMS_CONNECTIONS_TABLE"
    assert names.Env.DATABASE_SECRET_ARN == "CSMS_DATABASE_SECRET_ARN"
    assert names.Env.WS_MANAGEMENT_ENDPOINT == "CSMS_WS_MANAGEMENT_ENDPOINT"
    assert names.Env.ORIGIN_VERIFY_SECRET == "CSMS_ORIGIN_VERIFY_SECRET"
    assert names.Env.HEARTBEAT_INTERVAL == "CSMS_HEARTBEAT_INTERVAL"
    assert names.Env.SERVICE_NAME == "POWERTOOLS_SERVICE_NAME"
    assert names.Env.LOG_LEVEL == "CSMS_LOG_LEVEL"
    assert names.Env.TRACING == "CSMS_TRACING"
    assert names.Env.IDEMPOTENCY_TABLE == "CSMS_IDEMPOTENCY_TABLE"
    assert names.Env.DATABASE_HOST == "CSMS_DATABASE_HOST"
    assert names.Env.METRICS_NAMESPACE == "POWERTOOLS_METRICS_NAMESPACE"
    with pytest.raises(KeyError, match="no field"):
        names.setting_env_var("no_such_setting")


def test_the_cloudfront_function_must_name_the_headers_csms_reads(tmp_path: Path) -> None:
    # The shipped file agrees with csms.constants ...
    assert "x-csms-charge-point-id" in frontdoor.charger_path_source()

    # ... and a drifted copy is refused at synth time
    drifted = tmp_path / "charger_path.js"
    drifted.write_text(
        frontdoor.CHARGER_PATH_FUNCTION.read_text().replace("x-csms-charge-point-id", "x-cp-id")
    )
    with pytest.raises(ValueError, match="CHARGE_POINT_ID_HEADER"):
        frontdoor.charger_path_source(drifted)
