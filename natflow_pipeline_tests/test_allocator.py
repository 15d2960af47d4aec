"""The allocator setting read_day makes: freed delivery-sized buffers are reused, not faulted in
again. Each case runs in a fresh interpreter, since the setting is process-wide."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc",
    reason="the settings are glibc's; other C libraries are left alone",
)

# A reading thread's life: a fetched object (0.2-0.6 MB), its inflated text (2-8 MB), the parsed
# rows (0.5-2 MB, a few files' worth kept for the batch), each freed as the next file comes.
# Faults are counted after a warm-up, so glibc's one-off climb of its thresholds is not counted.
_CHURN = """
import collections, json, random, resource, sys, threading
if sys.argv[1] == "tuned":
    from natflow_pipeline.allocator import keep_freed_buffers
    assert keep_freed_buffers()
out = {}
def read_files():
    rng, kept = random.Random(1), collections.deque()
    for i in range(300):
        if i == 100:
            before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
        raw = b"r" * rng.randrange(200_000, 600_000)
        text = b"t" * rng.randrange(2 << 20, 8 << 20)
        del raw
        kept.append(b"p" * rng.randrange(512 << 10, 2 << 20))
        del text
        if len(kept) > 3:
            kept.popleft()
    out["faults"] = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before
worker = threading.Thread(target=read_files)
worker.start()
worker.join()
print(json.dumps(out))
"""


def _run(script: str, *args: str) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_buffers_freed_on_a_reading_thread_are_reused_instead_of_faulted_in_again() -> None:
    default, tuned = _run(_CHURN, "default")["faults"], _run(_CHURN, "tuned")["faults"]
    # Measured here: ~28,500 faults with glibc's defaults, ~8,500 with the setting.
    assert tuned * 2 < default, (default, tuned)


def test_reading_a_day_makes_the_setting() -> None:
    probe = (
        "from datetime import date\n"
        "from natflow_pipeline import allocator\n"
        "from natflow_pipeline.flowlogs.day import read_day\n"
        "assert allocator.keep_freed_buffers.cache_info().currsize == 0\n"
        "read_day([], lambda path: b'', date(2026, 11, 10)).nat_flows.collect()\n"
        "print(allocator.keep_freed_buffers.cache_info().currsize,"
        " allocator.keep_freed_buffers())\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["1", "True"]
