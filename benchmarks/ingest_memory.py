"""Peak memory and throughput of one day's flow log ingestion (the ``nat_flows`` asset).

For each size it writes a day of flow logs with the seeded generator (one delivery per 5 minutes,
as AWS delivers), materializes ``nat_flows`` for that day in a child process (a local warehouse,
exactly as Dagster runs it), and reports the child's peak RSS (``getrusage(RUSAGE_CHILDREN)``
read by a per-size wrapper process, so sizes do not mask each other) and rows read per second.

    .venv/bin/python benchmarks/ingest_memory.py --rows 1000000 4000000

Larger sizes are built by copying the generated deliveries under further flow log ids (distinct
AWS file names, so each copy is read), which keeps the generator's own memory out of the way.
Not a test: numbers depend on the machine; run it when the ingestion path changes.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

DAY = date(2026, 11, 2)
#: Connections per generated base day; four records each (plus scans and NODATA rows).
BASE_ROWS = 1_000_000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows",
        type=int,
        nargs="+",
        default=[1_000_000, 4_000_000],
        help="approximate rows per day",
    )
    parser.add_argument(
        "--workdir", type=Path, default=None, help="keep generated data here (default: a temp dir)"
    )
    parser.add_argument(
        "--child", nargs=3, metavar=("FLOWLOGS", "WAREHOUSE", "DAY"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--measure", nargs=3, metavar=("FLOWLOGS", "WAREHOUSE", "DAY"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        run_child(*args.child)
    elif args.measure:
        measure(*args.measure)
    else:
        run(args.rows, args.workdir)


def run(sizes: list[int], workdir: Path | None) -> None:
    owned = workdir is None
    root = Path(tempfile.mkdtemp(prefix="natflow-bench-")) if owned else workdir
    root.mkdir(parents=True, exist_ok=True)
    try:
        base = root / "base"
        base_rows = min(BASE_ROWS, min(sizes))
        if not (base / "flowlogs").exists():
            started = time.perf_counter()
            generate_base(base, base_rows)
            print(
                f"generated a {base_rows:,}-row base day in {time.perf_counter() - started:.0f}s",
                flush=True,
            )
        results = []
        for rows in sizes:
            copies = max(1, math.ceil(rows / base_rows))
            flowlogs = replicate(base / "flowlogs", root / f"x{copies}" / "flowlogs", copies)
            warehouse = root / f"x{copies}" / "warehouse"
            shutil.rmtree(warehouse, ignore_errors=True)
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--measure",
                    str(flowlogs),
                    str(warehouse),
                    DAY.isoformat(),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            result = json.loads(out.stdout.strip().splitlines()[-1])
            results.append(result)
            print(
                f"{result['rows_read']:>11,} rows  {result['files']:>5} files  "
                f"{result['gzip_mb']:8.1f} MB gzip  "
                f"peak RSS {result['peak_rss_mb']:7.0f} MB  "
                f"{result['rows_per_second']:>10,.0f} rows/s  "
                f"({result['seconds']:.0f}s)",
                flush=True,
            )
        print(json.dumps(results, indent=1))
    finally:
        if owned:
            shutil.rmtree(root, ignore_errors=True)


def generate_base(out: Path, rows: int) -> None:
    from natflow_pipeline.paths import DEFAULT_IP_RANGES
    from natflow_pipeline.sample_data.generator import generate

    generate(
        out, DEFAULT_IP_RANGES, DAY, 1, connections_per_day=rows // 4, seed=11, window_minutes=5
    )


def replicate(base: Path, target: Path, copies: int) -> Path:
    """``copies`` copies of every delivery, each under another flow log id (hard links: no
    space)."""
    if target.exists():
        return target
    for source in base.rglob("*.log.gz"):
        relative = source.relative_to(base)
        for copy in range(copies):
            name = source.name.replace("_fl-", f"_fl-{copy:02d}") if copy else source.name
            dest = target / relative.parent / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                dest.hardlink_to(source)
            except OSError:
                shutil.copyfile(source, dest)
    return target


def measure(flowlogs: str, warehouse: str, day: str) -> None:
    """Run the child and report its peak RSS: this process's only child, so the figure is its
    own."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", flowlogs, warehouse, day],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = (
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    )  # Linux: KiB
    print(json.dumps(result))


def run_child(flowlogs: str, warehouse: str, day: str) -> None:
    import dagster as dg

    from natflow_pipeline.assets.flow_logs import nat_flows, raw_flow_logs
    from natflow_pipeline.resources.flow_logs import FlowLogSource
    from natflow_pipeline.resources.warehouse import WarehouseResource

    source = FlowLogSource(uri=flowlogs)
    files = source.objects_for_day(date.fromisoformat(day))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as home, dg.instance_for_test(temp_dir=home) as instance:
        result = dg.materialize(
            [raw_flow_logs, nat_flows],
            partition_key=day,
            resources={"flow_logs": source, "warehouse": WarehouseResource(uri=warehouse)},
            instance=instance,
        )
    seconds = time.perf_counter() - started
    meta = {
        k: v.value
        for k, v in result.asset_materializations_for_node("nat_flows")[0].metadata.items()
    }
    print(
        json.dumps(
            {
                "rows_read": meta["rows_read"],
                "rows_kept": meta["rows_kept"],
                "files": meta.get("files_read", meta.get("files")),
                "gzip_mb": sum(f.size for f in files) / 2**20,
                "seconds": round(seconds, 1),
                "rows_per_second": round(meta["rows_read"] / seconds),
                "asset_rows_per_second": meta["rows_per_second"],
            }
        )
    )


if __name__ == "__main__":
    main()
