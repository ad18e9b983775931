"""Read ``GET /metrics`` as a test does: parsed with prometheus_client's own parser, samples by labels."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Scrape:
    """One parsed exposition."""

    families: dict[str, Metric]

    def value(self, sample: str, **labels: str) -> float:
        """The value of sample ``sample`` with exactly ``labels``; 0.0 when it is absent (a counter
        or histogram series not moved yet)."""
        for family in self.families.values():
            for found in family.samples:
                if found.name == sample and found.labels == labels:
                    return float(found.value)
        return 0.0

    def has(self, sample: str, **labels: str) -> bool:
        """Whether the exposition holds that sample."""
        return any(s.name == sample and s.labels == labels for f in self.families.values() for s in f.samples)


def parse(text: str) -> Scrape:
    """Parse a Prometheus text exposition (raises on anything the format does not allow)."""
    return Scrape({family.name: family for family in text_string_to_metric_families(text)})


def scrape(client: TestClient, headers: dict[str, str] | None = None) -> Scrape:
    """``GET /metrics`` (200 expected), parsed."""
    answer = client.get("/metrics", headers=headers or {})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return parse(answer.text)
