"""benchmarks/gate_overhead.py: its cost split is computed as documented, and it writes what the
chapter reads (no timing is checked)."""

import importlib.util
import json

import pytest
import torch
from book import RESULTS, ROOT

import attnbook as ab


def _load():
    spec = importlib.util.spec_from_file_location("gate_overhead", ROOT / "benchmarks" / "gate_overhead.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gate_overhead = _load()


def test_fixed_part_is_the_smallest_map_and_the_slope_comes_from_the_two_largest():
    # a cost of 5 + 2 per element, except a cache effect at the smallest map
    elements = [1_000, 10, 100_000, 10_000]
    seconds = [5 + 2 * 1_000, 7.0, 5 + 2 * 100_000, 5 + 2 * 10_000]
    fixed, slope = gate_overhead.fixed_and_slope(elements, seconds)
    assert fixed == 7.0 and slope == pytest.approx(2.0)


def test_aten_calls_counts_the_outermost_operators_of_one_call():
    class Twice(torch.nn.Module):
        def forward(self, x):
            return torch.sigmoid(x * 2.0)

    x = torch.randn(1, 8, 4, 4)
    assert gate_overhead.aten_calls(Twice(), x) == 2
    # SE runs more operators than the parameter-free global gather-excite
    se, ge = (ab.channel.create_attention(name, 8, **kwargs).eval()
              for name, kwargs in (("se", {"rd_channels": 2}), ("ge", {})))
    assert gate_overhead.aten_calls(se, x) > gate_overhead.aten_calls(ge, x) >= 2


@pytest.mark.integration
def test_a_tiny_run_writes_every_row_the_chapter_reads(tmp_path):
    out = tmp_path / "gate_overhead_cpu.json"
    assert gate_overhead.main(["--batches", "1", "--sizes", "32", "--small-batches", "1", "2",
                               "--module-batches", "1", "--module-sides", "7", "14", "--channels", "16",
                               "--rounds", "1", "--module-rounds", "1", "--values-per-sample", "5000",
                               "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    networks = {(row["arch"], row["attention"], row["batch"], row["size"]) for row in report["network_rows"]}
    assert networks == {(arch, name, batch, size) for name in ("se", "eca", "cbam", "bam")
                        for arch, batch, size in (("resnet50", 1, 32), ("small", 1, 40), ("small", 2, 40))}
    modules = {row["module"]: row for row in report["module_rows"]}
    assert set(modules) == {"se", "eca", "cbam", "bam", "ge", "one pass"}
    assert modules["one pass"]["passes_equivalent"] == 1.0 and modules["one pass"]["aten_calls"] == 1
    assert modules["se"]["elementwise_passes"] == 2 and modules["cbam"]["elementwise_passes"] == 6
    for row in report["module_rows"]:
        assert row["fixed_seconds"] > 0 and len(row["median_seconds"]) == 2
    assert report["threads"] == 1 and report["device"] == "cpu"


def test_the_stored_cpu_run_has_what_the_chapter_reads():
    report = json.loads((RESULTS / "gate_overhead_cpu.json").read_text())
    arches = {row["arch"] for row in report["network_rows"]}
    assert arches == {"resnet50", "small"}
    assert {row["module"] for row in report["module_rows"]} == {"se", "eca", "cbam", "bam", "ge", "one pass"}
    assert all(row["overhead_range"][0] <= row["overhead_range"][1] and row["plain_median_seconds"] > 0
               for row in report["network_rows"])
