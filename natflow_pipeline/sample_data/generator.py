"""Write flow log deliveries for a NAT gateway ENI, and the ground truth they imply.

Every connection through the NAT gateway leaves four records on its interface (client->NAT,
NAT->server, server->NAT, NAT->client); only the first and last show a translation. Around them
the generator writes what a real interface also logs: rejected scans of the gateway's address,
NODATA and SKIPDATA rows, IPv6 clients using NAT64, and the previous/next day's records in the
first delivery after midnight. The ground truth counts each connection's bytes once per direction,
by the day of its start, the team the company model (not the pipeline) says owns the client, and
the AWS service the generator aimed at.
"""

from __future__ import annotations

import gzip
import hashlib
import ipaddress
import json
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from natflow_pipeline.cost_explorer import usage_response, usage_type_for
from natflow_pipeline.pricing import PriceBook
from natflow_pipeline.sample_data import company

HEADER_FIELDS = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start "
    "end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr "
    "region az-id flow-direction traffic-path pkt-src-aws-service pkt-dst-aws-service"
).split()
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")
DELIVERY_DELAY = timedelta(minutes=5)


@dataclass(frozen=True)
class Destination:
    address: str
    service: str | None  # None: the internet
    region: str | None
    destination_class: str  # aws_same_region | aws_other_region | internet


@dataclass(frozen=True)
class Record:
    start: int
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Spike:
    """A planted spend anomaly: from ``first_day`` on, ``team`` pulls from S3 through the NAT, from
    S3 prefixes of its region (the NAT's) that no other traffic reaches: a new destination.

    Drawn from a random generator of its own (seeded from the run's seed), so the rest of the
    traffic is the same with or without it: only the spike's connections are added."""

    team: str
    first_day: date
    connections_per_day: int = 24
    #: Mean download per connection (lognormal around it), in 2^30-byte GB.
    gb_per_connection: float = 4.0
    #: Distinct S3 prefixes (one address each) the team pulls from.
    prefixes: int = 3


# (service, region, weight): where the company's traffic goes.
AWS_TARGETS = (
    ("S3", "us-east-1", 30),
    ("DYNAMODB", "us-east-1", 8),
    ("EC2", "us-east-1", 10),
    ("S3", "eu-west-1", 6),
)
INTERNET_NETS = ("203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/24")
INTERNET_WEIGHT = 30


def generate(
    out_dir: Path,
    ip_ranges_path: Path,
    first_day: date,
    days: int,
    connections_per_day: int,
    seed: int = 7,
    window_minutes: int = 60,
    spike: Spike | None = None,
    egress_vpc_connections_per_day: int = 0,
    multi_az: bool = False,
) -> dict[str, object]:
    """Write ``flowlogs/``, ``ipam/netbox-export.json``, ``ground_truth.json`` and the Cost Explorer
    answers the traffic implies (``cost_explorer/nat-usage.json``) under ``out_dir``.

    ``spike`` plants a new-destination spend anomaly (:class:`Spike`); its connections are in the
    flow logs, the ground truth's bytes and Cost Explorer like any other, and the ground truth's
    ``spike`` entry says what was planted. Without it (the default) nothing changes, byte for
    byte.

    ``egress_vpc_connections_per_day`` (0: off, the default) adds that many connections a day from
    clients inside the egress VPC (``company.EGRESS_VPC_CLIENT_SPACE``, drawn from a random
    generator of their own, so the rest of the traffic is unchanged) and records the ground
    truth's ``tgw`` entry: per day, team, owning account and Transit Gateway state the egress
    bytes of the clients, classed by the company model, not by natflow (:func:`_tgw_state`); the
    IPAM export then marks the egress VPC's prefix (custom field ``vpc_role`` = ``egress``).

    ``multi_az`` (off by default: nothing changes, byte for byte) puts the clients in several
    AZs: the IPAM export's prefixes carry the custom field ``az_id`` (``company.PREFIX_AZS``), and
    the ground truth's ``cross_az`` entry says, per day, team, owning account and AZ state, the
    clients' NAT bytes and the bytes that cross between the client's AZ (its space's intended
    ``ClientSpace.az_id``) and the NAT interface's (the az-id its records carry), both directions
    (:func:`_az_tap`). The flow log format always carries az-id."""
    rng = random.Random(seed)
    ranges = json.loads(ip_ranges_path.read_text())
    destinations = _destination_pool(rng, ranges)
    clients = _client_pool(rng)
    # Simulate from the last hour of the day before, so the first day's first delivery holds the
    # previous day's late records, as a real one does.
    sim_start = datetime(
        first_day.year, first_day.month, first_day.day, tzinfo=timezone.utc
    ) - timedelta(hours=1)
    sim_end = datetime(
        first_day.year, first_day.month, first_day.day, tzinfo=timezone.utc
    ) + timedelta(days=days)
    truth: dict[str, dict[tuple, int]] = defaultdict(lambda: defaultdict(int))
    windows: dict[int, list[Record]] = defaultdict(list)
    window_s = window_minutes * 60

    tgw: dict[str, dict[tuple, int]] | None = (
        defaultdict(lambda: defaultdict(int)) if egress_vpc_connections_per_day else None
    )
    cross_az: dict[str, dict[tuple, list[int]]] | None = (
        defaultdict(lambda: defaultdict(lambda: [0, 0])) if multi_az else None
    )
    spaces = {address: space for address, space in clients}

    def taps(
        records: Iterator[tuple[Record, tuple | None]],
    ) -> Iterator[tuple[Record, tuple | None]]:
        return _az_tap(_tgw_tap(records, tgw), cross_az, spaces)

    _collect(
        taps(_records(rng, sim_start, sim_end, connections_per_day, clients, destinations)),
        windows,
        truth,
        window_s,
    )
    if egress_vpc_connections_per_day:
        # Its own generator: the traffic above is drawn exactly as without these clients.
        egress_rng = random.Random(f"egress-vpc:{seed}")
        egress_records = _egress_vpc_records(
            egress_rng, sim_start, sim_end, egress_vpc_connections_per_day, destinations, multi_az
        )
        _collect(taps(egress_records), windows, truth, window_s)
    planted = None
    if spike is not None:
        # Its own generator: the traffic above is drawn exactly as without a spike.
        spike_rng = random.Random(f"spike:{seed}")
        targets = _spike_destinations(spike_rng, ranges, destinations, spike.prefixes)
        midnight = datetime(*spike.first_day.timetuple()[:3], tzinfo=timezone.utc)
        spike_records = _spike_records(
            spike_rng, spike, max(sim_start, midnight), sim_end, clients, targets
        )
        planted = _planted(spike, targets, _collect(taps(spike_records), windows, truth, window_s))

    files = _write_deliveries(out_dir / "flowlogs", windows, window_s, rng)
    ipam_dir = out_dir / "ipam"
    ipam_dir.mkdir(parents=True, exist_ok=True)
    (ipam_dir / "netbox-export.json").write_text(
        json.dumps(
            company.netbox_export(
                with_azs=multi_az, mark_egress_vpc=bool(egress_vpc_connections_per_day)
            ),
            indent=1,
            sort_keys=True,
        )
        + "\n"
    )
    ground_truth = _ground_truth(truth, first_day, days, seed, connections_per_day, files)
    if planted is not None:
        ground_truth["spike"] = planted
    if tgw is not None:
        ground_truth["tgw"] = _tgw_truth(tgw, first_day, days)
    if cross_az is not None:
        ground_truth["cross_az"] = _az_truth(cross_az, first_day, days)
    (out_dir / "ground_truth.json").write_text(
        json.dumps(ground_truth, indent=1, sort_keys=True) + "\n"
    )
    ce_dir = out_dir / "cost_explorer"
    ce_dir.mkdir(parents=True, exist_ok=True)
    (ce_dir / "nat-usage.json").write_text(
        json.dumps(_cost_explorer_usage(ground_truth), indent=1, sort_keys=True) + "\n"
    )
    return ground_truth


def _collect(
    records: Iterator[tuple[Record, tuple | None]],
    windows: dict[int, list[Record]],
    truth: dict[str, dict[tuple, int]],
    window_s: int,
) -> dict[str, int]:
    """File each record in its delivery window and count its bytes in the ground truth of its
    owner and day; returns the owned bytes per day."""
    per_day: dict[str, int] = defaultdict(int)
    for record, owner in records:
        windows[record.start - record.start % window_s].append(record)
        if owner is not None:
            day = datetime.fromtimestamp(record.start, timezone.utc).date().isoformat()
            truth[day][owner] += int(record.fields[9])
            per_day[day] += int(record.fields[9])
    return per_day


def _tgw_state(client: str, account: str | None) -> str:
    """How the company model classes a client for Transit Gateway data processing: inside the
    egress VPC's own CIDRs (``egress_vpc``: it reaches the NAT without crossing the TGW), in space
    nobody owns (``unknown``: no VPC, so no attachment, is known), else ``workload`` (its VPC's
    attachment sends its egress bytes into the TGW)."""
    address = ipaddress.ip_address(client)
    if any(address in ipaddress.ip_network(cidr) for cidr in company.EGRESS_VPC_CIDRS):
        return "egress_vpc"
    return "unknown" if account is None else "workload"


def _tgw_tap(
    records: Iterator[tuple[Record, tuple | None]], tgw: dict[str, dict[tuple, int]] | None
) -> Iterator[tuple[Record, tuple | None]]:
    """``records`` unchanged; with ``tgw``, each connection's egress leg (client -> NAT: the
    record's source is the client) is counted per day under (team, account, TGW state)."""
    for record, owner in records:
        if tgw is not None and owner is not None and owner[-1] == "egress":
            team, account = owner[0], owner[1]
            day = datetime.fromtimestamp(record.start, timezone.utc).date().isoformat()
            state = _tgw_state(record.fields[3], account)
            tgw[day][(team, account, state)] += int(record.fields[9])
        yield record, owner


def _tgw_truth(tgw: dict, first_day: date, days: int) -> dict[str, list[dict[str, object]]]:
    """The ground truth's ``tgw`` entry: per day, egress bytes per team, account and state."""
    out: dict[str, list[dict[str, object]]] = {}
    for offset in range(days):
        day = (first_day + timedelta(days=offset)).isoformat()
        out[day] = [
            {"team": t, "source_account_id": a, "tgw_state": s, "egress_bytes": b}
            for (t, a, s), b in sorted(tgw[day].items(), key=lambda kv: tuple(map(str, kv[0])))
        ]
    return out


SAME_AZ = "same_az"
CROSS_AZ = "cross_az"
UNKNOWN_AZ = "unknown"
VIA_TGW = "via_tgw"  # a workload client: through the TGW, no inter-AZ charge


def _space_of(address: str, spaces: dict[str, company.ClientSpace]) -> company.ClientSpace:
    """The client space the generator drew ``address`` from (the pool's, or the egress VPC's)."""
    if address in spaces:
        return spaces[address]
    for egress in company.EGRESS_VPC_CLIENT_SPACES:
        if ipaddress.ip_address(address) in ipaddress.ip_network(egress.cidr):
            return egress
    raise KeyError(f"{address} was drawn from no client space of the company model")


def _az_tap(
    records: Iterator[tuple[Record, tuple | None]],
    cross_az: dict[str, dict[tuple, list[int]]] | None,
    spaces: dict[str, company.ClientSpace],
) -> Iterator[tuple[Record, tuple | None]]:
    """``records`` unchanged; with ``cross_az``, each connection's two client legs (client ->
    NAT: the record's source is the client; NAT -> client: its destination) are counted per day
    under (team, account, AZ state): [NAT bytes, cross-AZ bytes]. A workload client (outside the
    egress VPC, with an account) reaches the NAT through the Transit Gateway, where AWS charges
    no inter-AZ transfer: state ``via_tgw``. Otherwise the client's AZ is its space's
    intended one (``ClientSpace.az_id``), the NAT's the az-id the record carries; either unknown
    makes the state unknown."""
    for record, owner in records:
        if cross_az is not None and owner is not None:
            client = record.fields[3] if owner[-1] == "egress" else record.fields[4]
            client_az = _space_of(client, spaces).az_id
            nat_az = record.fields[HEADER_FIELDS.index("az-id")]
            path = _tgw_state(client, owner[1])
            if path == "workload":
                # Through the Transit Gateway: no inter-AZ charge (AWS, 2022-04-01).
                state = VIA_TGW
            elif path == "unknown" or client_az is None or nat_az in (None, "-"):
                state = UNKNOWN_AZ
            else:
                state = SAME_AZ if client_az == nat_az else CROSS_AZ
            day = datetime.fromtimestamp(record.start, timezone.utc).date().isoformat()
            counts = cross_az[day][(owner[0], owner[1], state)]
            counts[0] += int(record.fields[9])
            if state == CROSS_AZ:
                counts[1] += int(record.fields[9])
        yield record, owner


def _az_truth(cross_az: dict, first_day: date, days: int) -> dict[str, list[dict[str, object]]]:
    """The ground truth's ``cross_az`` entry: per day, team, account and AZ state, the NAT bytes
    (both directions) and the cross-AZ bytes (both directions; null where the AZ is unknown)."""
    out: dict[str, list[dict[str, object]]] = {}
    for offset in range(days):
        day = (first_day + timedelta(days=offset)).isoformat()
        out[day] = [
            {
                "team": t,
                "source_account_id": a,
                "az_state": s,
                "nat_bytes": n,
                "cross_az_bytes": None if s == UNKNOWN_AZ else c,
            }
            for (t, a, s), (n, c) in sorted(
                cross_az[day].items(), key=lambda kv: tuple(map(str, kv[0]))
            )
        ]
    return out


def _egress_vpc_records(
    rng: random.Random,
    sim_start: datetime,
    sim_end: datetime,
    per_day: int,
    destinations: list[tuple[Destination, float]],
    multi_az: bool = False,
) -> Iterator[tuple[Record, tuple | None]]:
    """``per_day`` connections a day from a few clients inside the egress VPC, to the usual
    destinations (with ``multi_az``, half of them in a subnet of another AZ than the NAT's)."""
    spaces = company.EGRESS_VPC_CLIENT_SPACES if multi_az else (company.EGRESS_VPC_CLIENT_SPACE,)
    clients: list[tuple[str, company.ClientSpace]] = []
    for n in range(8):
        space = spaces[n % len(spaces)]
        net = ipaddress.ip_network(space.cidr)
        clients.append((str(net.network_address + rng.randrange(1, net.num_addresses - 1)), space))
    seconds = int((sim_end - sim_start).total_seconds())
    t0 = int(sim_start.timestamp())
    dest_list = [d for d, _ in destinations]
    dest_weights = [w for _, w in destinations]
    for _ in range(per_day * seconds // 86_400):
        start = t0 + rng.randrange(seconds)
        dest = rng.choices(dest_list, dest_weights)[0]
        client, space = rng.choice(clients)
        yield from _connection(rng, start, client, space, dest)


def _spike_destinations(
    rng: random.Random, ranges: dict, pool: list[tuple[Destination, float]], count: int
) -> dict[str, str]:
    """``count`` S3 addresses of the NAT's region (address -> its most specific ip-ranges
    prefix), each in a prefix that holds none of the pool's destinations, so the team's traffic
    to them is new at the prefix level the anomaly check compares."""
    prefixes = [
        (ipaddress.ip_network(p["ip_prefix"]), p["service"], p["region"])
        for p in ranges["prefixes"]
    ]
    used = [ipaddress.ip_address(d.address) for d, _ in pool if d.service is not None]
    free = sorted(
        (
            net
            for net, service, region in prefixes
            if service == "S3" and region == company.NAT_REGION and not any(a in net for a in used)
        ),
        key=str,
    )
    targets: dict[str, str] = {}
    for net in rng.sample(free, min(count, len(free))):
        for _ in range(100):
            address = net.network_address + rng.randrange(1, max(2, net.num_addresses - 1))
            best = _best_match(address, prefixes)
            if best is not None and best[1:] == ("S3", company.NAT_REGION):
                targets[str(address)] = str(best[0])
                break
    if not targets:
        raise ValueError(f"ip-ranges.json has no free S3 prefix in {company.NAT_REGION}")
    return targets


def _spike_records(
    rng: random.Random,
    spike: Spike,
    start: datetime,
    end: datetime,
    clients: list[tuple[str, company.ClientSpace]],
    targets: dict[str, str],
) -> Iterator[tuple[Record, tuple | None]]:
    """The spike's connections: the team's IPv4 clients downloading from the new S3 addresses,
    ``connections_per_day`` a day from ``start``, about ``gb_per_connection`` each."""
    ours = [(a, space) for a, space in clients if space.team == spike.team and ":" not in a]
    if not ours:
        raise ValueError(f"no IPv4 client space of team {spike.team!r} in the company model")
    seconds = int((end - start).total_seconds())
    if seconds <= 0:
        return
    destinations = [
        Destination(a, "S3", company.NAT_REGION, "aws_same_region") for a in sorted(targets)
    ]
    mean_bytes = spike.gb_per_connection * 2**30
    for _ in range(spike.connections_per_day * seconds // 86_400):
        client, space = rng.choice(ours)
        down = int(mean_bytes * rng.lognormvariate(0, 0.3))
        at = int(start.timestamp()) + rng.randrange(seconds)
        yield from _connection(rng, at, client, space, rng.choice(destinations), down)


def _planted(spike: Spike, targets: dict[str, str], per_day: dict[str, int]) -> dict[str, object]:
    """The ground truth's ``spike`` entry: what was planted, where, and its bytes per day."""
    return {
        "team": spike.team,
        "first_day": spike.first_day.isoformat(),
        "kind": "new destination",
        "aws_service": "S3",
        "aws_region": company.NAT_REGION,
        "destinations": [{"address": a, "aws_prefix": targets[a]} for a in sorted(targets)],
        "connections_per_day": spike.connections_per_day,
        "gb_per_connection": spike.gb_per_connection,
        "bytes_by_day": dict(sorted(per_day.items())),
    }


def _cost_explorer_usage(ground_truth: dict) -> dict[str, object]:
    """The GetCostAndUsage answers the sample's traffic implies: AWS bills every NAT byte (both
    directions) to the gateway's account and region, as NAT data processing at the region's price,
    in GB of DEFAULT_BILLING_GB_BYTES. Final (not estimated) days, like a month-old bill."""
    book = PriceBook()
    usage_type = usage_type_for(company.NAT_REGION)
    responses = []
    for day, totals in sorted(ground_truth["days"].items()):
        gb = totals["nat_bytes"] / book.billing_gb_bytes
        groups = [(usage_type, company.NAT_ACCOUNT, gb, gb * book.per_gb(company.NAT_REGION))]
        responses.append(usage_response(date.fromisoformat(day), groups))
    return {
        "about": "Cost Explorer GetCostAndUsage responses for the sample days (USAGE_TYPE_GROUP "
        "'EC2: NAT Gateway - Data Processed', grouped by USAGE_TYPE and LINKED_ACCOUNT), written "
        "by natflow_pipeline.sample_data from the generated NAT bytes",
        "responses": responses,
    }


def _client_pool(rng: random.Random) -> list[tuple[str, company.ClientSpace]]:
    pool = []
    for space in company.CLIENT_SPACES:
        net = ipaddress.ip_network(space.cidr)
        hosts = 1 if net.num_addresses == 1 else min(40, net.num_addresses - 2)
        for _ in range(hosts):
            offset = (
                0
                if net.num_addresses == 1
                else rng.randrange(1, min(net.num_addresses - 1, 1 << 16))
            )
            pool.append((str(net.network_address + offset), space))
    return pool


def _destination_pool(rng: random.Random, ranges: dict) -> list[tuple[Destination, float]]:
    """Destination addresses whose service the obvious (slow) rule confirms: the most specific
    prefix containing the address; for one prefix, a named service before EC2 before AMAZON."""
    prefixes = [
        (ipaddress.ip_network(p["ip_prefix"]), p["service"], p["region"])
        for p in ranges["prefixes"]
    ]
    pool: list[tuple[Destination, float]] = []
    for service, region, weight in AWS_TARGETS:
        candidates = [net for net, s, r in prefixes if s == service and r == region]
        chosen: list[Destination] = []
        while len(chosen) < 12:
            net = rng.choice(candidates)
            address = net.network_address + rng.randrange(1, max(2, net.num_addresses - 1))
            if _reference_service(address, prefixes) == (service, region):
                cls = "aws_same_region" if region == company.NAT_REGION else "aws_other_region"
                chosen.append(Destination(str(address), service, region, cls))
        pool += [(d, weight / len(chosen)) for d in chosen]
    internet = [
        Destination(
            str(ipaddress.ip_network(n).network_address + rng.randrange(1, 255)),
            None,
            None,
            "internet",
        )
        for n in INTERNET_NETS
        for _ in range(6)
    ]
    pool += [(d, INTERNET_WEIGHT / len(internet)) for d in internet]
    return pool


def _reference_service(address: ipaddress.IPv4Address, prefixes: list) -> tuple[str, str] | None:
    best = _best_match(address, prefixes)
    return None if best is None else best[1:]


def _best_match(address: ipaddress.IPv4Address, prefixes: list) -> tuple | None:
    """(prefix, service, region) of the most specific prefix holding ``address``; for one
    prefix, a named service before EC2 before AMAZON."""
    best = None
    for net, service, region in prefixes:
        if address in net:
            key = (net.prefixlen, {"AMAZON": 0, "EC2": 1}.get(service, 2))
            if best is None or key > best[0]:
                best = (key, (net, service, region))
    return None if best is None else best[1]


def _records(
    rng: random.Random,
    sim_start: datetime,
    sim_end: datetime,
    per_day: int,
    clients: list[tuple[str, company.ClientSpace]],
    destinations: list[tuple[Destination, float]],
) -> Iterator[tuple[Record, tuple | None]]:
    seconds = int((sim_end - sim_start).total_seconds())
    t0 = int(sim_start.timestamp())
    total = per_day * seconds // 86_400
    client_weights = [space.weight / 40 for _, space in clients]
    dest_list = [d for d, _ in destinations]
    dest_weights = [w for _, w in destinations]
    for _ in range(total):
        start = t0 + rng.randrange(seconds)
        client, space = rng.choices(clients, client_weights)[0]
        dest = rng.choices(dest_list, dest_weights)[0]
        yield from _connection(rng, start, client, space, dest)
    for hour in range(0, seconds, 3600):
        start = t0 + hour + rng.randrange(3600)
        yield _scan(rng, start), None
        if rng.random() < 0.5:
            yield _no_data(start, rng.choice(["NODATA", "NODATA", "SKIPDATA"])), None


def _connection(
    rng: random.Random,
    start: int,
    client: str,
    space: company.ClientSpace,
    dest: Destination,
    down_bytes: int | None = None,
) -> Iterator[tuple[Record, tuple | None]]:
    end = start + rng.randrange(1, 59)
    sport, dport = rng.randrange(32768, 61000), 443
    up = int(rng.lognormvariate(13, 1.5))
    down = (
        int(rng.lognormvariate(16 if dest.service == "S3" else 15, 1.8))
        if down_bytes is None
        else down_bytes
    )
    v6 = ":" in client
    true_dst = (
        str(NAT64_PREFIX.network_address + int(ipaddress.IPv4Address(dest.address)))
        if v6
        else dest.address
    )
    nat_side = company.NAT_PRIVATE_IPV6 if v6 else company.NAT_PRIVATE_IP
    owner = (space.team, space.account, dest.service, dest.destination_class)
    # client->NAT: the destination was rewritten (translated: kept, egress)
    yield (
        _record(
            rng, start, end, client, nat_side, sport, dport, client, true_dst, up, "ingress", "-"
        ),
        (*owner, "egress"),
    )
    # NAT->server and server->NAT: no translation visible on these legs (filtered)
    yield (
        _record(
            rng,
            start,
            end,
            company.NAT_PRIVATE_IP,
            dest.address,
            sport,
            dport,
            company.NAT_PRIVATE_IP,
            dest.address,
            up,
            "egress",
            "8",
        ),
        None,
    )
    yield (
        _record(
            rng,
            start,
            end,
            dest.address,
            company.NAT_PRIVATE_IP,
            dport,
            sport,
            dest.address,
            company.NAT_PRIVATE_IP,
            down,
            "ingress",
            "-",
        ),
        None,
    )
    # NAT->client: the source was rewritten (translated: kept, ingress)
    yield (
        _record(
            rng, start, end, nat_side, client, dport, sport, true_dst, client, down, "egress", "-"
        ),
        (*owner, "ingress"),
    )


def _record(
    rng: random.Random,
    start: int,
    end: int,
    src: str,
    dst: str,
    sport: int,
    dport: int,
    pkt_src: str,
    pkt_dst: str,
    nbytes: int,
    flow_direction: str,
    traffic_path: str,
    action: str = "ACCEPT",
) -> Record:
    packets = max(1, nbytes // 1200)
    fields = (
        "5",
        company.NAT_ACCOUNT,
        company.NAT_INTERFACE,
        src,
        dst,
        str(sport),
        str(dport),
        "6",
        str(packets),
        str(nbytes),
        str(start),
        str(end),
        action,
        "OK",
        company.NAT_VPC,
        company.NAT_SUBNET,
        "-",
        str(rng.choice([2, 3, 18, 19])),
        "IPv6" if ":" in src else "IPv4",
        pkt_src,
        pkt_dst,
        company.NAT_REGION,
        company.NAT_AZ_ID,
        flow_direction,
        traffic_path,
        "-",
        "-",
    )
    return Record(start, fields)


def _scan(rng: random.Random, start: int) -> Record:
    scanner = f"198.18.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    return _record(
        rng,
        start,
        start + 1,
        scanner,
        company.NAT_PRIVATE_IP,
        rng.randrange(1024, 65535),
        22,
        scanner,
        company.NAT_PRIVATE_IP,
        40,
        "ingress",
        "-",
        "REJECT",
    )


def _no_data(start: int, status: str) -> Record:
    fields = ["-"] * len(HEADER_FIELDS)
    fields[0], fields[1], fields[2] = "5", company.NAT_ACCOUNT, company.NAT_INTERFACE
    fields[10], fields[11], fields[13] = str(start), str(start + 60), status
    return Record(start, tuple(fields))


def _write_deliveries(
    root: Path, windows: dict[int, list[Record]], window_s: int, rng: random.Random
) -> list[str]:
    written = []
    for window_start in sorted(windows):
        delivered = datetime.fromtimestamp(window_start + window_s, timezone.utc) + DELIVERY_DELAY
        records = sorted(windows[window_start], key=lambda r: (r.start, r.fields))
        body = " ".join(HEADER_FIELDS) + "\n" + "".join(" ".join(r.fields) + "\n" for r in records)
        suffix = hashlib.sha256(f"{window_start}:{rng.random()}".encode()).hexdigest()[:8]
        name = (
            f"{company.NAT_ACCOUNT}_vpcflowlogs_{company.NAT_REGION}_{company.FLOW_LOG_ID}_"
            f"{delivered:%Y%m%dT%H%MZ}_{suffix}.log.gz"
        )
        folder = (
            root
            / "AWSLogs"
            / company.NAT_ACCOUNT
            / "vpcflowlogs"
            / company.NAT_REGION
            / f"{delivered:%Y/%m/%d}"
        )
        folder.mkdir(parents=True, exist_ok=True)
        # mtime=0 keeps the gzip bytes identical across runs of the generator.
        (folder / name).write_bytes(gzip.compress(body.encode(), compresslevel=6, mtime=0))
        written.append(str((folder / name).relative_to(root.parent)))
    return written


def _ground_truth(
    truth: dict, first_day: date, days: int, seed: int, per_day: int, files: list[str]
) -> dict[str, object]:
    out: dict[str, object] = {
        "generator": {
            "seed": seed,
            "first_day": first_day.isoformat(),
            "days": days,
            "connections_per_day": per_day,
        },
        "files": len(files),
        "days": {},
    }
    for offset in range(days):
        day = (first_day + timedelta(days=offset)).isoformat()
        rows = [
            {
                "team": t,
                "source_account_id": a,
                "aws_service": s,
                "destination_class": c,
                "direction": d,
                "bytes": b,
            }
            for (t, a, s, c, d), b in sorted(
                truth[day].items(), key=lambda kv: tuple(str(x) for x in kv[0])
            )
        ]
        out["days"][day] = {"nat_bytes": sum(r["bytes"] for r in rows), "by_team": rows}
    return out
