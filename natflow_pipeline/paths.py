"""Where the embedded default lives, so the code location runs offline with no configuration."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_FLOW_LOGS = DATA_DIR / "flowlogs"
DEFAULT_IPAM_EXPORT = DATA_DIR / "ipam" / "netbox-export.json"
DEFAULT_IP_RANGES = DATA_DIR / "aws-ip-ranges" / "ip-ranges.json"
DEFAULT_WAREHOUSE = DATA_DIR / "warehouse"
DEFAULT_COST_EXPLORER_FILE = DATA_DIR / "cost_explorer" / "nat-usage.json"
