"""TEMPORARY: removed by the lead after merging issue 9.

The space file now lives in ``dse.space``; this module only re-exports it for the modules
issue 9 is moving (study, run_folder, trial_runner, ray_runtime, synthesis/loop, records).
"""

from __future__ import annotations

from dse.space import *  # noqa: F403
from dse.space import __all__  # noqa: F401
