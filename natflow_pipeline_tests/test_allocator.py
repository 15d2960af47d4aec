"""The allocator setting read_day makes: freed delivery-sized buffers are reused, not faulted in again.

Each case runs in a fresh interpreter, since the setting is process-wide and once set stays set.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest

# A reading thread's life: delivery-sized buffers (1-8 MB) allocated, written and freed, 200 times.
_CHURN = """
import json, random, resource, sys, threading
if sys.argv[1] == "tuned":
    from natflow_pipeline.allocator import keep_freed_buffers
    assert keep_freed_buffers()
out = {}
def churn():
    rng = random.Random(1)
    before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    for _ in range(200):
        buffer = b"x" * rng.randrange(1 << 20, 8 << 20)
        del buffer
    out["faults"] = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before
worker = threading.Thread(target=churn)
worker.start()
worker.join()
print(json.dumps(out))
"""

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's; other C libraries are left alone")


def _faults(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", _CHURN, mode], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)["faults"]


def test_buffers_freed_on_a_reading_thread_are_reused_instead_of_faulted_in_again() -> None:
    default, tuned = _faults("default"), _faults("tuned")
    # Measured here: ~10,000 faults with glibc's defaults, ~2,000 with the setting.
    assert tuned * 2 < default, (default, tuned)


def test_reading_a_day_makes_the_setting() -> None:
    probe = (
        "from datetime import date\n"
        "from natflow_pipeline import allocator\n"
        "from natflow_pipeline.flowlogs.day import read_day\n"
        "assert allocator.keep_freed_buffers.cache_info().currsize == 0\n"
        "read_day([], lambda path: b'', date(2026, 11, 10)).nat_flows.collect()\n"
        "print(allocator.keep_freed_buffers.cache_info().currsize, allocator.keep_freed_buffers())\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["1", "True"]
