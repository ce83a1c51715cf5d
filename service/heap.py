"""The garbage collector in a gateway process: what start-up built is never scanned again.

A full (generation 2) collection walks every tracked object. In a gateway that is mostly the
modules, the rule pack and the runtime, built once at start-up and alive until exit: about
120 ms per collection on the development machine, a dozen times per 10 s under load, and
every request in flight waits for it (`bench.run`'s p99). `gc.freeze()` moves what exists to
a permanent generation the collector skips, so a full collection scans only what requests
allocated since. Only for a process the gateway owns: the embedded API leaves its host's
collector alone (docs/operators.md says how to do the same there).
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Collect once, then keep everything that survived out of future collections."""
    gc.collect()
    gc.freeze()
