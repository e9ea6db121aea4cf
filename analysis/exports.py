"""Results as CSV or XLSX: the rows a reader may see, in the reader's presentation."""

from __future__ import annotations

from typing import Any

from survey_service.spreadsheets import write_csv, write_xlsx

# (column header, key in a presented result row)
COLUMNS = [
    ("层级", "level"),
    ("单位编码", "unit_code"),
    ("单位", "unit_name"),
    ("类别", "category"),
    ("维度", "dimension"),
    ("题目", "question"),
    ("名称", "label"),
    ("答卷数", "n_responses"),
    ("选票发放", "ballots_issued"),
    ("选票使用", "ballots_used"),
    ("参与率", "participation"),
    ("作答数", "n_answered"),
    ("有效数", "n_valid"),
    ("满意数", "n_satisfied"),
    ("满意率", "rate"),
    ("满意率(严)", "rate_strict"),
    ("不满意率", "rate_negative"),
    ("知晓率", "awareness"),
    ("综合得分", "score"),
    ("95%区间下限", "ci_low"),
    ("95%区间上限", "ci_high"),
    ("精确单侧下限", "exact_lower"),
    ("p值", "p_value"),
    ("q值(BH)", "q_value"),
    ("标识", "flag"),
    ("低于目标概率", "prob_below"),
    ("收缩估计", "shrunk"),
    ("基线满意率", "baseline_rate"),
    ("变化", "diff"),
    ("变化区间下限", "diff_ci_low"),
    ("变化区间上限", "diff_ci_high"),
    ("改善p值", "p_improved"),
    ("结论", "verdict"),
    ("已隐藏(样本不足)", "suppressed"),
]


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else ""
    if isinstance(value, float):
        return round(value, 6)
    return "" if value is None else value


def results_export(rows: list[dict[str, Any]], *, fmt: str) -> bytes:
    headers = [header for header, _key in COLUMNS]
    table = [[_cell(row.get(key)) for _header, key in COLUMNS] for row in rows]
    if rows:
        settings = rows[0]["settings"]
        table.append([])
        table.append(["口径与设置", *(f"{k}={v}" for k, v in settings.items())])
    if fmt == "xlsx":
        return write_xlsx(headers, table, title="results")
    return write_csv(headers, table)
