"""The code asset, the Docker-free layer build, and the names shared with csms."""

from __future__ import annotations

import importlib.util
import marshal
import subprocess
import sys
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from csms_infra import assets, frontdoor, names
from csms_infra.assets import (
    PipLayerBundling,
    compile_bytecode,
    compile_command,
    find_bytecode_python,
    layer_fingerprint,
    pip_install_command,
    runtime_requirements,
)

from .support import context_for

pytestmark = pytest.mark.infra

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The running interpreter's version: lets the real-interpreter tests use ``sys.executable``.
HOST_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
#: A version no test host runs, so the fakes decide alone which candidate matches.
FAKE_VERSION = "3.99"


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


def test_the_layer_hash_follows_the_requirements_and_the_bytecode_and_nothing_else() -> None:
    requirements = ["boto3>=1.40", "ocpp==2.1.0"]

    def fingerprint(requirements: list[str], bytecode_version: str | None = "3.13") -> str:
        return layer_fingerprint(requirements, bytecode_version=bytecode_version)

    assert fingerprint(requirements) == fingerprint(list(requirements))
    assert fingerprint(requirements) != fingerprint([*requirements, "httpx"])
    # A machine without CPython 3.13 builds a layer without bytecode: another asset.
    assert fingerprint(requirements) != fingerprint(requirements, bytecode_version=None)
    assert fingerprint(requirements) != fingerprint(requirements, bytecode_version="3.14")


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
    # (from the lock's lines, every wheel checked against its hash)
    assert calls[0][-4:-1] == ["--require-hashes", "--no-deps", "-r"]
    assert Path(calls[0][-1]).read_text() == "ocpp==2.1.0\n"
    assert (tmp_path / "python" / "ocpp" / "__init__.py").is_file()
    assert not (tmp_path / "python" / "bin").exists()


def test_the_code_asset_holds_csms_and_functions_without_the_hosts_caches(tmp_path: Path) -> None:
    # Given a checkout with the host's bytecode caches lying around (another Python version,
    # timestamp-checked): staging copies none of them. Bytecode for Lambda's Python is
    # compiled into the staged copy afterwards (see the CodeAssets tests below).
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


# --- bytecode -------------------------------------------------------------------------------
class FakeRunner:
    """Answers by executable: ``(returncode, stdout)`` or an exception; records the commands."""

    def __init__(self, answers: Mapping[str, tuple[int, str] | Exception]) -> None:
        self.answers = answers
        self.calls: list[list[str]] = []

    def __call__(self, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(command))
        assert kwargs.get("check") is False, "a failing probe must not raise"
        answer = self.answers.get(command[0], FileNotFoundError(command[0]))
        if isinstance(answer, Exception):
            raise answer
        returncode, stdout = answer
        return subprocess.CompletedProcess(command, returncode, stdout=stdout, stderr="")

    @property
    def executables(self) -> list[str]:
        return [command[0] for command in self.calls]


def on_path(**programs: str) -> Callable[[str], str | None]:
    found = {name.replace("_", "."): path for name, path in programs.items()}
    return found.get


def test_the_bytecode_python_is_looked_up_in_order_and_each_candidate_is_run() -> None:
    # Given a broken explicit choice, a pyenv shim that refuses to run, and uv knowing one
    runner = FakeRunner(
        {
            "/opt/broken/python": (1, ""),
            "/shims/python3.99": (127, "pyenv: python3.99: command not found\n"),
            "/usr/bin/uv": (0, "/uv/cpython-3.99/bin/python3.99\n"),
            "/uv/cpython-3.99/bin/python3.99": (0, "cpython 3.99\n"),
        }
    )

    found = find_bytecode_python(
        FAKE_VERSION,
        runner=runner,
        environ={"CSMS_BYTECODE_PYTHON": "/opt/broken/python"},
        which=on_path(python3_99="/shims/python3.99", uv="/usr/bin/uv", pyenv="/usr/bin/pyenv"),
    )

    # Then the failing candidates are skipped and pyenv is never asked
    assert found == "/uv/cpython-3.99/bin/python3.99"
    assert runner.executables == [
        "/opt/broken/python",
        "/shims/python3.99",
        "/usr/bin/uv",
        "/uv/cpython-3.99/bin/python3.99",
    ]
    assert runner.calls[0][1] == "-c"
    assert runner.calls[2] == ["/usr/bin/uv", "python", "find", FAKE_VERSION]


def test_a_working_explicit_bytecode_python_wins() -> None:
    runner = FakeRunner({"/opt/py/bin/python": (0, "cpython 3.99\n")})

    found = find_bytecode_python(
        FAKE_VERSION,
        runner=runner,
        environ={"CSMS_BYTECODE_PYTHON": "/opt/py/bin/python"},
        which=on_path(python3_99="/usr/bin/python3.99"),
    )

    assert found == "/opt/py/bin/python"
    assert runner.executables == ["/opt/py/bin/python"]


def test_python_on_path_is_used_and_uv_and_pyenv_are_only_asked_when_installed() -> None:
    runner = FakeRunner({"/usr/bin/python3.99": (0, "cpython 3.99\n")})

    assert find_bytecode_python(FAKE_VERSION, runner=runner, environ={}, which=on_path()) is None
    assert runner.calls == []

    found = find_bytecode_python(
        FAKE_VERSION, runner=runner, environ={}, which=on_path(python3_99="/usr/bin/python3.99")
    )
    assert found == "/usr/bin/python3.99"


def test_pyenv_finds_an_installed_version_whose_shim_is_not_active() -> None:
    prefix = "/root/.pyenv/versions/3.99.0"
    runner = FakeRunner(
        {
            "/shims/python3.99": (127, ""),
            "/usr/bin/pyenv": (0, f"{prefix}\n"),
            f"{prefix}/bin/python3.99": (0, "cpython 3.99\n"),
        }
    )

    found = find_bytecode_python(
        FAKE_VERSION,
        runner=runner,
        environ={},
        which=on_path(python3_99="/shims/python3.99", pyenv="/usr/bin/pyenv"),
    )

    assert found == f"{prefix}/bin/python3.99"
    assert runner.calls[1] == ["/usr/bin/pyenv", "prefix", FAKE_VERSION]


@pytest.mark.parametrize(
    "answer",
    [
        (0, "cpython 3.12\n"),  # another version: its .pyc would be ignored by Lambda
        (0, "pypy 3.99\n"),  # another implementation: another bytecode
        (0, ""),
        FileNotFoundError("gone"),
        subprocess.TimeoutExpired("python3.99", 60),
    ],
)
def test_a_candidate_that_is_not_the_right_cpython_is_refused(answer: tuple[int, str] | Exception) -> None:
    runner = FakeRunner({"/usr/bin/python3.99": answer})

    found = find_bytecode_python(
        FAKE_VERSION, runner=runner, environ={}, which=on_path(python3_99="/usr/bin/python3.99")
    )

    assert found is None


def test_the_running_python_is_used_when_it_is_the_right_version() -> None:
    # Real interpreter: the version check really runs sys.executable.
    assert find_bytecode_python(HOST_VERSION, environ={}, which=on_path()) == sys.executable


def test_compileall_writes_hash_checked_free_bytecode_named_by_the_lambda_path() -> None:
    command = compile_command(Path("/build/code"), "/usr/bin/python3.13", "/var/task")

    assert command == [
        "/usr/bin/python3.13",
        "-E",  # the build machine's PYTHON* variables must not change what is written
        *("-m", "compileall", "-q", "-j", "0"),
        *("--invalidation-mode", "unchecked-hash"),
        *("-d", "/var/task"),
        "/build/code",
    ]


def _module_run_by(command: list[str]) -> str:
    """``compileall`` for ``python -E -m compileall ...``."""
    return command[command.index("-m") + 1]


def _tree(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "mod.py").write_text("def answer() -> int:\n    return 42\n")
    return root


def test_compiled_bytecode_is_reproducible_wherever_the_tree_is_built(tmp_path: Path) -> None:
    # Given the same sources in two scratch directories, compiled by a real interpreter
    first, second = _tree(tmp_path / "one"), _tree(tmp_path / "two")

    assert compile_bytecode(first, sys.executable, "/var/task") is True
    assert compile_bytecode(second, sys.executable, "/var/task") is True

    # Then the .pyc files sit where the importer looks and are byte-for-byte equal
    pycs = [Path(importlib.util.cache_from_source(str(tree / "pkg" / "mod.py"))) for tree in (first, second)]
    assert pycs[0].is_file()
    data = pycs[0].read_bytes()
    assert data == pycs[1].read_bytes()
    # ... hash-based without source check (flags 0b01), so zip timestamps do not matter
    assert int.from_bytes(data[4:8], "little") == 0b01
    # ... and named by their path on Lambda, not by the scratch directory
    assert marshal.loads(data[16:]).co_filename == "/var/task/pkg/mod.py"


def test_the_build_machines_python_variables_do_not_divert_or_change_the_bytecode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a developer who keeps .pyc out of source trees and runs optimised by default
    prefix = tmp_path / "pycache-prefix"
    monkeypatch.setenv("PYTHONPYCACHEPREFIX", str(prefix))
    monkeypatch.setenv("PYTHONOPTIMIZE", "1")
    tree = _tree(tmp_path / "code")

    assert compile_bytecode(tree, sys.executable, "/var/task") is True

    # Then the plain .pyc Lambda loads still lands in __pycache__ next to the sources
    cache = tree / "pkg" / "__pycache__"
    assert sorted(p.name for p in cache.iterdir()) == [
        f"__init__.{sys.implementation.cache_tag}.pyc",
        f"mod.{sys.implementation.cache_tag}.pyc",
    ]
    assert not prefix.exists()


def test_local_bundling_compiles_the_layer_after_pip_and_tolerates_modules_that_do_not_compile(
    tmp_path: Path,
) -> None:
    calls: list[tuple[list[str], dict[str, Any]]] = []

    def runner(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append((command, kwargs))
        if "pip" in command:
            target = Path(command[command.index("--target") + 1])
            (target / "ocpp" / "__pycache__").mkdir(parents=True)
            (target / "ocpp" / "__init__.py").write_text("")
            (target / "ocpp" / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"host")
            return subprocess.CompletedProcess(command, 0)
        return subprocess.CompletedProcess(command, 1)  # e.g. a Python 2 leftover in a wheel

    bundling = PipLayerBundling(["ocpp==2.1.0"], bytecode_python="/usr/bin/python3.13", runner=runner)

    assert bundling.try_bundle(str(tmp_path)) is True
    site_packages = tmp_path / "python"
    assert [_module_run_by(command) for command, _ in calls] == ["pip", "compileall"]
    compile_call, compile_kwargs = calls[1]
    assert compile_call == compile_command(site_packages, "/usr/bin/python3.13", "/opt/python")
    assert compile_kwargs["check"] is False
    # The host's bytecode was pruned before compiling
    assert not (site_packages / "ocpp" / "__pycache__" / "__init__.cpython-311.pyc").exists()


OCPP_HASH = "--hash=sha256:" + "0" * 64


def _code_assets(
    tmp_path: Path,
    *,
    skip_bundling: bool,
    find_python: Callable[[], str | None],
    runner: Callable[..., Any],
) -> tuple[Any, assets.CodeAssets]:
    from aws_cdk import App, Stack

    from csms_infra.config import StageConfig

    repo = tmp_path / "repo"
    (repo / "src" / "csms").mkdir(parents=True)
    (repo / "src" / "csms" / "__init__.py").write_text("")
    (repo / "functions" / "connect").mkdir(parents=True)
    (repo / "functions" / "connect" / "handler.py").write_text("def lambda_handler(e, c): ...\n")
    (repo / "pyproject.toml").write_text('[project]\ndependencies = ["ocpp==2.1.0"]\n')
    (repo / "infra").mkdir()
    (repo / assets.LOCK_FILE).write_text(f"ocpp==2.1.0 \\\n    {OCPP_HASH}\n    # via csms\n")
    config = StageConfig.from_mapping(context_for({"skip_bundling": skip_bundling}).get)
    stack = Stack(App(outdir=str(tmp_path / "cdk.out")), "Probe")
    code = assets.CodeAssets(
        stack, "Code", config=config, repo_root=repo, runner=runner, find_python=find_python
    )
    return stack, code


def _warnings_of(stack: Any) -> list[str]:
    from aws_cdk.assertions import Annotations, Match

    return [
        str(message.entry.data)
        for message in Annotations.from_stack(stack).find_warning("*", Match.any_value())
    ]


def _fake_pip_else_real(calls: list[list[str]]) -> Callable[..., Any]:
    """pip never reaches PyPI; anything else (compileall) really runs."""

    def runner(command: list[str], **kwargs: Any) -> Any:
        calls.append(command)
        if "pip" in command:
            target = Path(command[command.index("--target") + 1])
            (target / "ocpp").mkdir(parents=True)
            (target / "ocpp" / "__init__.py").write_text("")
            return subprocess.CompletedProcess(command, 0)
        return subprocess.run(command, **kwargs)

    return runner


def test_with_skip_bundling_nothing_is_looked_up_or_compiled(tmp_path: Path) -> None:
    def must_not_run(*_: Any, **__: Any) -> Any:
        raise AssertionError("skip_bundling synths must stay hermetic")

    stack, code = _code_assets(tmp_path, skip_bundling=True, find_python=must_not_run, runner=must_not_run)

    assert code.bytecode_python is None
    assert not list(Path(code.code.path).rglob("__pycache__"))
    assert code.contains_handler("functions/connect/handler.lambda_handler")
    assert not [warning for warning in _warnings_of(stack) if "csms:NoBytecode" in warning]


def test_the_code_and_the_layer_are_compiled_with_the_python_found_once(tmp_path: Path) -> None:
    # Given a build machine whose bytecode Python is found (here: the host's, really run)
    lookups: list[str] = []

    def find_python() -> str:
        lookups.append(sys.executable)
        return sys.executable

    calls: list[list[str]] = []
    stack, code = _code_assets(
        tmp_path, skip_bundling=False, find_python=find_python, runner=_fake_pip_else_real(calls)
    )

    # Then the staged code carries bytecode next to its sources, still found by handler
    staged = Path(code.code.path)
    assert Path(importlib.util.cache_from_source(str(staged / "csms" / "__init__.py"))).is_file()
    assert Path(
        importlib.util.cache_from_source(str(staged / "functions" / "connect" / "handler.py"))
    ).is_file()
    assert code.contains_handler("functions/connect/handler.lambda_handler")
    assert not code.contains_handler("functions/nope/handler.lambda_handler")
    # ... the layer was compiled after pip, and its hash says so
    assert [_module_run_by(command) for command in calls] == ["compileall", "pip", "compileall"]
    assert calls[0][-3:] == ["-d", "/var/task", str(staged)]
    assert calls[2][-2] == "/opt/python"
    assert code.layer_hash == layer_fingerprint([f"ocpp==2.1.0 {OCPP_HASH}"], bytecode_version="3.13")
    assert lookups == [sys.executable]
    assert not [warning for warning in _warnings_of(stack) if "csms:NoBytecode" in warning]


def test_without_a_python_313_the_assets_ship_without_bytecode_and_synth_warns(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    stack, code = _code_assets(
        tmp_path, skip_bundling=False, find_python=lambda: None, runner=_fake_pip_else_real(calls)
    )

    assert code.bytecode_python is None
    assert not list(Path(code.code.path).rglob("__pycache__"))
    assert [_module_run_by(command) for command in calls] == ["pip"]
    assert code.layer_hash == layer_fingerprint([f"ocpp==2.1.0 {OCPP_HASH}"], bytecode_version=None)
    [warning] = [warning for warning in _warnings_of(stack) if "csms:NoBytecode" in warning]
    assert "no CPython 3.13" in warning
    assert "~1 s" in warning
    assert "python3.13" in warning
    assert "CSMS_BYTECODE_PYTHON" in warning


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
