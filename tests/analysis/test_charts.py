"""analysis.charts: pure functions from numbers to SVG, checked as XML."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from analysis import charts, stats

SVG = "{http://www.w3.org/2000/svg}"
EVIL = "<script>alert('x')</script>&甲"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


def of_class(root: ET.Element, tag: str, css: str) -> list[ET.Element]:
    return [
        node
        for node in root.iter(f"{SVG}{tag}")
        if css in (node.get("class") or "").split()
    ]


def test_it_escapes_labels_in_every_chart():
    svgs = [
        charts.interval_chart(
            [charts.Interval(EVIL, 0.9, 0.85, 0.94, "AMBER")], title=EVIL, target=0.95
        ),
        charts.histogram([0.9, 0.97], title=EVIL, target=0.95),
        charts.funnel_plot(
            [charts.Point(EVIL, 100, 0.5, "RED", href="/r/?a=1&raw=1")],
            title=EVIL,
            target=0.95,
        ),
    ]
    for svg in svgs:
        assert "<script" not in svg
        root = parse(svg)
        assert not list(root.iter("script")) and not list(root.iter(f"{SVG}script"))
        assert root.find(f"{SVG}title").text == EVIL
    funnel = parse(svgs[2])
    assert funnel.find(f"{SVG}a").get("href") == "/r/?a=1&raw=1"
    assert EVIL in funnel.find(f".//{SVG}circle/{SVG}title").text


def test_it_draws_a_hidden_row_as_text_without_a_dot():
    root = parse(
        charts.interval_chart(
            [
                charts.Interval("甲", 0.9, 0.85, 0.94, "AMBER"),
                charts.Interval("乙", None),
            ],
            title="t",
            target=0.95,
        )
    )
    assert len(of_class(root, "circle", "value")) == 1
    assert "样本不足，不予显示" in texts(root)
    assert "90.0%" in texts(root)


def test_it_marks_the_target_where_the_axis_puts_it():
    root = parse(
        charts.interval_chart(
            [charts.Interval("甲", 0.8, 0.7, 0.88)], title="t", target=0.95
        )
    )
    assert "目标 95%" in texts(root)
    line = of_class(root, "g", "target-line")[0].find(f"{SVG}line")
    tick_x = {
        "".join(node.itertext()): float(node.get("x"))
        for node in root.iter(f"{SVG}text")
    }
    # 95% lies halfway between the 90% and 100% ticks.
    middle = (tick_x["90%"] + tick_x["100%"]) / 2
    assert float(line.get("x1")) == pytest.approx(middle, abs=0.2)


def test_it_labels_differences_in_points_around_zero():
    root = parse(
        charts.interval_chart(
            [charts.Interval("甲", 0.05, -0.01, 0.11, "STEADY", note="+5.0")],
            title="t",
            domain=(-0.2, 0.2, 0.1),
            reference=0.0,
            reference_label="无变化",
            differences=True,
        )
    )
    assert {"-20", "-10", "0", "+10", "+20", "无变化", "+5.0"} <= set(texts(root))


def test_the_funnel_has_both_limits_the_target_and_one_point_per_unit():
    points = [
        charts.Point("甲", 120, 100 / 120, "RED"),
        charts.Point("乙", 60, 59 / 60, "GREEN"),
        charts.Point("丙", 300, 0.96, "GREEN"),
    ]
    root = parse(charts.funnel_plot(points, title="漏斗", target=0.95))
    assert len(of_class(root, "circle", "point")) == 3
    assert len(of_class(root, "polyline", "limit-95")) == 2  # lower and upper
    assert len(of_class(root, "polyline", "limit-998")) == 2
    assert of_class(root, "g", "target-line")
    assert {"目标 95%", "95% 控制限", "99.8% 控制限"} <= set(texts(root))
    # 100/120 is far below the 99.8% lower limit at n = 120 (≈ 0.89), so it is named.
    lower = stats.funnel_limits([120], 0.95, (0.998,))[0.998][0][0]
    assert 100 / 120 < lower
    assert "甲" in texts(root) and "乙" not in texts(root)


def test_the_funnel_limits_follow_stats_funnel_limits():
    root = parse(
        charts.funnel_plot(
            [charts.Point("甲", 400, 0.9)], title="t", target=0.95, width=900
        )
    )
    lower95 = of_class(root, "polyline", "limit-95")[0]
    coords = [tuple(map(float, p.split(","))) for p in lower95.get("points").split()]
    # The curve rises with n: at the right end it is higher (smaller y) than in
    # the middle, as the binomial lower limit approaches the target.
    assert coords[-1][1] < coords[len(coords) // 2][1]
    limits = stats.funnel_limits(np.array([1, 400]), 0.95, (0.95,))[0.95][0]
    assert limits[1] > limits[0]


def test_the_funnel_without_points_is_still_valid():
    root = parse(charts.funnel_plot([], title="t", target=0.95))
    assert not of_class(root, "circle", "point")


def test_the_histogram_counts_every_value_once():
    values = [0.75, 0.8, 0.9, 0.94, 0.95, 0.96, 0.97, 0.99, 1.0, 1.0]
    root = parse(charts.histogram(values, title="分布", target=0.95))
    bins = of_class(root, "rect", "bin")
    counts = [int(node.find(f"{SVG}title").text.rsplit("：", 1)[1]) for node in bins]
    assert sum(counts) == len(values)
    assert "目标 95%" in texts(root)


@pytest.mark.parametrize(
    ("values", "target"),
    [([0.8, 0.99], 0.95), ([1.0], 0.95), ([0.3, 0.5], 0.95), ([], None)],
)
def test_rate_domains_hold_the_values_and_the_target_within_0_and_1(values, target):
    low, high, step = charts.rate_domain(values, target)
    assert 0 <= low < high <= 1
    for value in [*values, *([target] if target is not None else [])]:
        assert low <= value <= high
    assert step > 0


def test_nice_steps_are_1_2_2_5_or_5_times_a_power_of_ten():
    assert charts.nice_step(1.0) == 0.2
    assert charts.nice_step(0.2) == 0.05
    assert charts.nice_step(430, 6) == 100
    assert charts.nice_step(0) == 1.0


def test_it_formats_rates_as_percentages():
    assert charts.pct(0.9512) == "95.1%"
    assert charts.target_label(0.95) == "目标 95%"
    assert charts.target_label(0.925) == "目标 92.5%"


def test_a_long_label_keeps_the_units_code_where_names_repeat():
    # A unit's code in brackets tells two units of one name apart: cut the name.
    long = "土木工程学院本科生第一党支部图书馆服务窗口" * 2
    rows = [
        charts.Interval(f"{long}（LIB-01）", 0.9, 0.85, 0.95, "GREEN"),
        charts.Interval(f"{long}（LIB-02）", 0.8, 0.75, 0.85, "AMBER"),
    ]
    labels = [
        text
        for text in texts(parse(charts.interval_chart(rows, title="t", target=0.95)))
        if "…" in text
    ]
    assert len(labels) == 2
    assert labels[0].endswith("…（LIB-01）") and labels[1].endswith("…（LIB-02）")
    # Without a code the label is cut at its end as before.
    plain = charts.interval_chart(
        [charts.Interval(long, 0.9, 0.85, 0.95, "GREEN")], title="t", target=0.95
    )
    assert any(text.endswith("…") for text in texts(parse(plain)))
