"""The task queue between functions: our records of every task, both queue adapters, and the target side.

The port and `enqueue` live in `shared/queue.py`; this package holds what stands behind them.
"""
