"""Instructions per ``estimate`` (deterministic, unaffected by the machine's load), for issue 17's speed work.

Step 1 (native): ``python benchmarks/estimate_instructions.py --make /tmp/speed_cands.pkl`` pickles 100 jet-MLP
and 50 LeNet-sized CNN candidates of ``benchmarks/estimate_speed.py`` (seed 0, with trained-weight summaries).
Step 2, per source tree and model, under valgrind (N passes over the candidates, after one warm-up estimate)::

    PYTHONPATH=TREE valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python benchmarks/estimate_instructions.py --run /tmp/speed_cands.pkl jet N

Instructions per estimate = (Ir at N=2 - Ir at N=0) / (2 x candidates). Target: xcvu9p, 5 ns, Vitis 2021.1,
the shipped prior calibration.
"""

from __future__ import annotations

import pickle
import random
import sys
from pathlib import Path


def main() -> int:
    if sys.argv[1] == "--make":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import estimate_speed as b

        rng = random.Random(0)
        jet = [b.with_trained_weights(b.candidate(rng), i) for i in range(100)]
        cnn = [b.with_trained_weights(b.lenet(rng), i) for i in range(50)]
        Path(sys.argv[2]).write_bytes(pickle.dumps((jet, cnn)))
        return 0
    from cost_models import Target, estimate

    jet, cnn = pickle.loads(Path(sys.argv[2]).read_bytes())
    t = Target(part="xcvu9p-flga2104-2L-e", clock_period_ns=5.0, backend="vitis", tool_version="2021.1")
    cands = jet if sys.argv[3] == "jet" else cnn
    estimate(cands[0], t)
    for _ in range(int(sys.argv[4])):
        for c in cands:
            estimate(c, t)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
