"""clinicbot's shared package: configuration, data access, and one folder per domain."""

import os

# OpenBLAS (numpy's) keeps its worker threads spinning after each call; on two cores they starved the e5
# model's own threads, and a 10 ms embedding took 1.6 s (p95 of a turn: 5.4 s -> 0.15 s with one thread).
# numpy reads this once, when it loads: here, before anything imports it. A value set outside is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
