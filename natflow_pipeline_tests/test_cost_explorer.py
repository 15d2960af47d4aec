"""Reading Cost Explorer answers: usage-type regions, pages, the offline file."""

from __future__ import annotations

import json
from datetime import date

import pytest

from natflow_pipeline.cost_explorer import (
    NAT_DATA_PROCESSED_GROUP,
    CostExplorerError,
    FileCostExplorer,
    fetch_day,
    region_of_usage_type,
    request_for,
    usage_response,
    usage_type_for,
)
from natflow_pipeline.paths import DEFAULT_COST_EXPLORER_FILE
from natflow_pipeline.pricing import REGIONS, USAGE_TYPE_REGIONS

DAY = date(2026, 11, 2)


@pytest.mark.parametrize(
    ("usage_type", "region"),
    [
        ("NatGateway-Bytes", "us-east-1"),
        ("USE1-NatGateway-Bytes", "us-east-1"),
        ("USE2-NatGateway-Bytes", "us-east-2"),
        ("EU-NatGateway-Bytes", "eu-west-1"),
        ("APS3-NatGateway-Bytes", "ap-south-1"),
        ("CAN2-NatGateway-Bytes", "ca-west-1"),
        ("APN1-RegionalNatGateway-Bytes", "ap-northeast-1"),
    ],
)
def test_region_comes_from_the_usage_type_prefix(usage_type, region):
    assert region_of_usage_type(usage_type) == region


def test_unknown_prefixes_and_other_usage_types_are_errors_not_guesses():
    with pytest.raises(CostExplorerError, match="unknown region code 'XYZ1'"):
        region_of_usage_type("XYZ1-NatGateway-Bytes")
    with pytest.raises(CostExplorerError, match="not a NAT gateway data-processing usage type"):
        region_of_usage_type("USE2-NatGateway-Hours")


def test_every_region_round_trips_through_its_usage_type():
    assert len(USAGE_TYPE_REGIONS) == len(REGIONS) + 1  # + USE1
    for entry in REGIONS:
        assert region_of_usage_type(usage_type_for(entry.region)) == entry.region


def test_the_request_asks_for_one_day_of_the_nat_data_processed_group():
    request = request_for(DAY, "tok")
    assert request["TimePeriod"] == {"Start": "2026-11-02", "End": "2026-11-03"}
    assert request["Filter"]["Dimensions"] == {
        "Key": "USAGE_TYPE_GROUP",
        "Values": [NAT_DATA_PROCESSED_GROUP],
    }
    assert [g["Key"] for g in request["GroupBy"]] == ["USAGE_TYPE", "LINKED_ACCOUNT"]
    assert request["NextPageToken"] == "tok"


class Pages:
    """A client that pages through canned answers, and records what it was asked."""

    def __init__(self, *responses):
        self.responses, self.requests = list(responses), []

    def get_cost_and_usage(self, **request):
        self.requests.append(request)
        return self.responses[len(self.requests) - 1]


def test_pages_are_followed_and_estimated_anywhere_marks_the_day():
    first = usage_response(DAY, [("NatGateway-Bytes", "1", 1.5, 0.0675)])
    first["NextPageToken"] = "p2"
    second = usage_response(DAY, [("USE2-NatGateway-Bytes", "2", 2.0, 0.09)], estimated=True)
    client = Pages(first, second)
    result = fetch_day(client, DAY)
    assert result.pages == 2 and result.estimated
    assert [r.get("NextPageToken") for r in client.requests] == [None, "p2"]
    assert result.usage.select("account_id", "region", "usage_quantity").rows() == [
        ("1", "us-east-1", 1.5),
        ("2", "us-east-2", 2.0),
    ]


def test_an_answer_for_another_day_is_refused():
    with pytest.raises(
        CostExplorerError, match="answered for 2026-11-03 when asked for 2026-11-02"
    ):
        fetch_day(Pages(usage_response(date(2026, 11, 3), [])), DAY)


def test_the_offline_file_answers_its_days_and_marks_others_estimated(tmp_path):
    path = tmp_path / "ce.json"
    path.write_text(
        json.dumps({"responses": [usage_response(DAY, [("NatGateway-Bytes", "1", 3.0, 0.135)])]})
    )
    client = FileCostExplorer(path)
    assert fetch_day(client, DAY).usage["usage_quantity"].to_list() == [3.0]
    other = fetch_day(client, date(2026, 11, 5))
    assert other.usage.is_empty() and other.estimated
    (tmp_path / "bad.json").write_text("[]")
    with pytest.raises(
        CostExplorerError, match="bad.json: expected an object with a 'responses' list"
    ):
        FileCostExplorer(tmp_path / "bad.json")


def test_the_sample_file_bills_every_sample_nat_byte(ground_truth):
    client = FileCostExplorer(DEFAULT_COST_EXPLORER_FILE)
    for day, totals in ground_truth["days"].items():
        usage = fetch_day(client, date.fromisoformat(day)).usage
        assert usage["usage_quantity"].sum() * 2**30 == pytest.approx(totals["nat_bytes"], abs=1)
