from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cm_helpers import SHARED_REPORTS  # noqa: E402


@pytest.fixture
def shared_reports() -> Path:
    if not SHARED_REPORTS.is_dir():
        pytest.skip("shared hls4ml reports not available")
    return SHARED_REPORTS
