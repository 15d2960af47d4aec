"""``python -m natflow_pipeline.sample_data``: regenerate the embedded default in ``data/``."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from natflow_pipeline.paths import DATA_DIR, DEFAULT_IP_RANGES
from natflow_pipeline.sample_data.generator import Spike, generate
from natflow_pipeline.settings import SAMPLE_START_DATE

SAMPLE_DAYS = 3
SAMPLE_CONNECTIONS_PER_DAY = 2000
SAMPLE_SEED = 7


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    parser.add_argument(
        "--first-day", type=date.fromisoformat, default=date.fromisoformat(SAMPLE_START_DATE)
    )
    parser.add_argument("--days", type=int, default=SAMPLE_DAYS)
    parser.add_argument("--connections-per-day", type=int, default=SAMPLE_CONNECTIONS_PER_DAY)
    parser.add_argument("--seed", type=int, default=SAMPLE_SEED)
    parser.add_argument(
        "--window-minutes", type=int, default=60, help="one delivery per window (AWS: 5 or 10)"
    )
    parser.add_argument(
        "--spike-team", help="plant a new-destination spike: this team starts pulling from S3"
    )
    parser.add_argument(
        "--spike-from", type=date.fromisoformat, help="the spike's first day (YYYY-MM-DD)"
    )
    args = parser.parse_args()
    if (args.spike_team is None) != (args.spike_from is None):
        parser.error("--spike-team and --spike-from go together")
    spike = Spike(args.spike_team, args.spike_from) if args.spike_team else None
    truth = generate(
        args.out,
        DEFAULT_IP_RANGES,
        args.first_day,
        args.days,
        args.connections_per_day,
        args.seed,
        args.window_minutes,
        spike,
    )
    print(f"wrote {truth['files']} deliveries, IPAM export and ground truth under {args.out}")


if __name__ == "__main__":
    main()
