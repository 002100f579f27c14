"""The shared virtualenv is a symlink in every worktree; committing it replaces the real folder on
checkout (this happened twice), so the suite refuses to pass while git tracks it."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_the_virtualenv_is_never_committed():
    tracked = subprocess.run(
        ["git", "ls-files", "--", ".venv", "venv"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.split()
    assert tracked == [], "git tracks the virtualenv: run `git rm --cached .venv` before landing"
