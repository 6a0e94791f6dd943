from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.cost_models.cm_helpers import SHARED_REPORTS


@pytest.fixture
def shared_reports() -> Path:
    if not SHARED_REPORTS.is_dir():
        pytest.skip("shared hls4ml reports not available")
    return SHARED_REPORTS
