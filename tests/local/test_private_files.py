"""Files of the local stack that hold secrets are never readable by others, not even briefly."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from csms.local import stack as local_stack
from csms.local.stack import LocalStack, StackConfig, write_private


def test_a_private_file_is_owner_only_from_its_first_byte(tmp_path: Path, monkeypatch: Any) -> None:
    # Given a permissive umask (a fresh file would be 0666) and a way to look at the file
    # before it takes its final name
    seen: list[int] = []
    real_replace = os.replace

    def replace(source: Any, target: Any) -> None:
        seen.append(stat.S_IMODE(os.stat(source).st_mode))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    old = os.umask(0)
    try:
        # When a secret is written, over an older world-readable file too
        path = tmp_path / "dev-env.json"
        path.write_text("old")
        path.chmod(0o644)
        write_private(path, '{"secret": 1}')
    finally:
        os.umask(old)

    # Then the content was never in a file others could read
    assert seen == [0o600]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == '{"secret": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["dev-env.json"]


def test_csms_dev_publishes_its_environment_through_a_private_file(tmp_path: Path, monkeypatch: Any) -> None:
    written: list[Path] = []
    monkeypatch.setattr(local_stack, "write_private", lambda path, text: written.append(path))
    monkeypatch.setenv("CSMS_ORIGIN_VERIFY_SECRET", "s3cret")

    LocalStack(StackConfig(state_dir=tmp_path, publish_environment=True))._publish_environment()

    assert written == [tmp_path / "dev-env.json"]


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_loopback_hosts_are_recognised(host: str) -> None:
    assert local_stack.is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_other_hosts_are_not_loopback(host: str) -> None:
    assert not local_stack.is_loopback(host)
