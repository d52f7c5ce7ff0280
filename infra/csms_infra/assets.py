"""The one code asset and the one dependency layer that every function shares.

Both are built without Docker:

- the code asset is a copy of ``src/csms`` (as ``csms/``) and ``functions/`` (as
  ``functions/``), so ``functions/<name>/handler.py`` imports ``csms`` like it does locally;
- the layer is ``pip install --platform manylinux..._aarch64 --only-binary=:all:`` of the
  runtime dependencies in ``pyproject.toml``, run on the build machine through CDK's local
  bundling hook. Wheels only, so nothing is compiled for the wrong CPU.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Sequence
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
LAYER_RECIPE_VERSION: Final = "1"
#: Never used (local bundling always runs), but CDK's BundlingOptions requires an image.
_UNUSED_DOCKER_IMAGE: Final = "public.ecr.aws/sam/build-python3.13"

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache", ".ruff_cache")

Runner = Callable[..., Any]


def runtime_requirements(pyproject: Path | None = None) -> tuple[str, ...]:
    """``[project].dependencies`` of ``pyproject.toml``: what the functions import."""
    data = tomllib.loads((pyproject or REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return tuple(data["project"]["dependencies"])


def pip_install_command(target: Path, requirements: Sequence[str], python: str = sys.executable) -> list[str]:
    """The pip command that fills ``target`` with arm64 / CPython 3.13 wheels."""
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


def layer_fingerprint(requirements: Sequence[str]) -> str:
    """Asset hash of the layer: its inputs, not pip's output.

    Hashing the inputs lets CDK skip the build when ``cdk.out`` already holds this layer and
    keeps the hash stable across machines. The price: a new release of a dependency inside
    the allowed range is picked up only when the requirements (or the recipe) change. A
    lock file fed in here would make the hash follow exact versions.
    """
    recipe = {
        "recipe": LAYER_RECIPE_VERSION,
        "python": LAYER_PYTHON_VERSION,
        "platforms": LAYER_PLATFORMS,
        "requirements": list(requirements),
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


def prune_layer(site_packages: Path) -> None:
    """Drop what Lambda never uses: console scripts (host shebangs) and bytecode caches."""
    shutil.rmtree(site_packages / "bin", ignore_errors=True)
    for cache in site_packages.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


@jsii.implements(ILocalBundling)
class PipLayerBundling:
    """CDK local bundling: ``pip install`` the layer on the build machine instead of in Docker."""

    def __init__(self, requirements: Sequence[str], *, runner: Runner = subprocess.run) -> None:
        self._requirements = tuple(requirements)
        self._runner = runner

    def try_bundle(self, output_dir: str, options: BundlingOptions | None = None, **_: Any) -> bool:
        """Called by CDK with the (empty) asset directory; Lambda layers look in ``python/``.

        jsii passes the bundling options positionally; the keyword catch-all only keeps the
        signature compatible with the ``ILocalBundling`` protocol for type checkers.
        """
        site_packages = Path(output_dir) / "python"
        command = pip_install_command(site_packages, self._requirements)
        print(f"csms: building the dependency layer ({' '.join(command[3:])})", file=sys.stderr)
        # Failing loudly beats returning False: CDK would then try Docker, which we do not use.
        self._runner(command, check=True)
        prune_layer(site_packages)
        return True


def stage_code(destination: Path, repo_root: Path = REPO_ROOT) -> Path:
    """Copy the shared package and the entry points into the layout Lambda imports from."""
    shutil.copytree(repo_root / "src" / "csms", destination / "csms", ignore=_IGNORED)
    shutil.copytree(repo_root / names.FUNCTIONS_DIR, destination / names.FUNCTIONS_DIR, ignore=_IGNORED)
    return destination


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

    Context: ``skip_bundling=true`` replaces the layer by an empty placeholder (unit tests
    must not reach PyPI).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, repo_root: Path = REPO_ROOT
    ) -> None:
        super().__init__(scope, construct_id)
        staged = stage_code(_temporary_directory("csms-code-"), repo_root)
        self._staged = staged
        # The same content fingerprint CDK uses for the asset hash: it changes with any file.
        self.code_hash: str = FileSystem.fingerprint(str(staged))
        # One AssetCode shared by every function: CDK stages and uploads it once.
        self.code = lambda_.Code.from_asset(str(staged))

        requirements = runtime_requirements(repo_root / "pyproject.toml")
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
            self.layer_hash = layer_fingerprint(requirements)
            layer_code = lambda_.Code.from_asset(
                str(source),
                asset_hash=self.layer_hash,
                asset_hash_type=AssetHashType.CUSTOM,
                bundling=BundlingOptions(
                    image=DockerImage.from_registry(_UNUSED_DOCKER_IMAGE),
                    local=PipLayerBundling(requirements),
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
