"""Built-in scales (METHODS.md §1) and questionnaire templates (from the seed plan).

Plain data, installed by migration 0002 as published version 1 of each template.
Treat it as append-only: a changed template is a new version made in the product
(or a new migration), never an edit here that would make fresh databases differ.
"""

from __future__ import annotations

# key, name, [(code, label, polarity, score)] from the top level down.
SCALES = [
    (
        "three_dk",
        "满意度（三级+不了解）",
        [
            ("satisfied", "满意", "positive", 100),
            ("basically_satisfied", "基本满意", "positive", 70),
            ("dissatisfied", "不满意", "negative", 0),
            ("dont_know", "不了解", "dont_know", None),
        ],
    ),
    (
        "four",
        "满意度（四级）",
        [
            ("satisfied", "满意", "positive", 100),
            ("fairly_satisfied", "比较满意", "positive", 85),
            ("basically_satisfied", "基本满意", "positive", 70),
            ("dissatisfied", "不满意", "negative", 0),
        ],
    ),
    (
        "haochaping5",
        "政务服务好差评（五级）",
        [
            ("very_satisfied", "非常满意", "positive", 100),
            ("satisfied", "满意", "positive", 80),
            ("basically_satisfied", "基本满意", "positive", 60),
            ("dissatisfied", "不满意", "negative", 20),
            ("very_dissatisfied", "非常不满意", "negative", 0),
        ],
    ),
    (
        "likert5",
        "李克特五级",
        [
            ("very_satisfied", "非常满意", "positive", 100),
            ("satisfied", "满意", "positive", 75),
            ("neutral", "一般", "neutral", 50),
            ("dissatisfied", "不满意", "negative", 25),
            ("very_dissatisfied", "非常不满意", "negative", 0),
        ],
    ),
    (
        "good4",
        "党员评议（好/较好/一般/差）",
        [
            ("good", "好", "positive", 100),
            ("fairly_good", "较好", "positive", 80),
            ("average", "一般", "neutral", 60),
            ("poor", "差", "negative", 0),
        ],
    ),
]


def _scale_items(scale: str, items: list[tuple[str, str]]) -> list[dict]:
    return [
        {"code": code, "kind": "scale", "text": text, "scale": scale}
        for code, text in items
    ]


def _wuhao(subject: str) -> list[dict]:
    return [
        {
            "code": "leadership",
            "title": "领导班子好",
            "questions": _scale_items(
                "three_dk",
                [
                    ("leadership_unity", f"{subject}领导班子团结协作、民主作风好"),
                    ("leadership_integrity", f"{subject}领导班子政治素质高、清正廉洁"),
                ],
            ),
        },
        {
            "code": "members",
            "title": "党员队伍好",
            "questions": _scale_items(
                "three_dk",
                [
                    ("members_vanguard", "党员在岗位上发挥先锋模范作用"),
                    ("members_contact", "党员主动联系服务师生，做师生的贴心人"),
                ],
            ),
        },
        {
            "code": "mechanism",
            "title": "工作机制好",
            "questions": _scale_items(
                "three_dk",
                [
                    ("mechanism_rules", "“三会一课”、民主评议、党务公开等制度落到实处"),
                    ("mechanism_service", "为师生办实事、解难事的机制健全有效"),
                ],
            ),
        },
        {
            "code": "performance",
            "title": "工作业绩好",
            "questions": _scale_items(
                "three_dk",
                [
                    ("performance_results", "教学、科研、管理、服务工作成效明显"),
                    ("performance_promises", "兑现向师生公开的承诺"),
                ],
            ),
        },
        {
            "code": "reputation",
            "title": "群众反映好",
            "questions": _scale_items(
                "three_dk",
                [
                    ("reputation_image", f"{subject}在师生中威信高、形象好"),
                    ("reputation_response", "对师生反映的问题及时回应、认真整改"),
                ],
            ),
        },
    ]


def _closing(headline: str, scale: str) -> list[dict]:
    return [
        {
            "code": "overall",
            "kind": "scale",
            "text": headline,
            "scale": scale,
            "required": True,
            "headline": True,
        },
        {
            "code": "suggestions",
            "kind": "text",
            "text": "意见和建议",
            "help_text": "请勿填写姓名、学号、电话等个人信息。",
        },
    ]


TEMPLATES = [
    {
        "key": "wuhao-committee",
        "title": "二级党组织“五好”群众评议",
        "description": "请根据您的了解，对该党组织作出评价。匿名填写，约需一分钟。",
        "target_kind": "committee",
        "dimensions": _wuhao("该党组织"),
        "questions": _closing("您对该党组织的总体评价", "three_dk"),
    },
    {
        "key": "wuhao-branch",
        "title": "党支部“五好”群众评议",
        "description": "请根据您的了解，对该党支部作出评价。匿名填写，约需一分钟。",
        "target_kind": "branch",
        "dimensions": _wuhao("支部委员会"),
        "questions": _closing("您对该党支部的总体评价", "three_dk"),
    },
    {
        "key": "wugemofan",
        "title": "党员“五个模范”群众评议",
        "description": "请对本支部党员的整体表现作出评价。匿名填写，约需一分钟。",
        "target_kind": "branch",
        "dimensions": [
            {
                "code": "study",
                "title": "学习钻研的模范",
                "questions": _scale_items(
                    "good4",
                    [
                        ("study_theory", "党员认真学习，真学真懂真信真用"),
                        ("study_skills", "党员钻研业务，提升服务师生的能力"),
                    ],
                ),
            },
            {
                "code": "work",
                "title": "教学、科研管理的模范",
                "questions": _scale_items(
                    "good4",
                    [("work_dedication", "党员爱岗敬业，在本职岗位上做出突出成绩")],
                ),
            },
            {
                "code": "service",
                "title": "服务师生的模范",
                "questions": _scale_items(
                    "good4",
                    [
                        ("service_help", "党员热情帮助师生解决实际困难"),
                        ("service_rights", "党员维护师生员工的正当权益"),
                    ],
                ),
            },
            {
                "code": "discipline",
                "title": "遵纪守法的模范",
                "questions": _scale_items(
                    "good4",
                    [("discipline_rules", "党员遵守党的纪律、国家法律和学校规章制度")],
                ),
            },
            {
                "code": "integrity",
                "title": "弘扬正气的模范",
                "questions": _scale_items(
                    "good4", [("integrity_conduct", "党员讲党性、重品行、作表率")]
                ),
            },
        ],
        "questions": _closing("您对本支部党员的总体评价", "good4"),
    },
    {
        "key": "window",
        "title": "服务窗口/文明示范岗服务评价",
        "description": "请对您刚刚接受的服务作出评价。匿名填写，约需一分钟。",
        "target_kind": "window",
        "dimensions": [
            {
                "code": "attitude",
                "title": "服务态度",
                "questions": _scale_items(
                    "haochaping5", [("attitude_polite", "工作人员热情礼貌、耐心解答")]
                ),
            },
            {
                "code": "efficiency",
                "title": "办事效率",
                "questions": _scale_items(
                    "haochaping5",
                    [
                        ("efficiency_speed", "办事流程简便，等候时间合理"),
                        ("efficiency_once", "一次性告知所需材料，不让师生多跑"),
                    ],
                ),
            },
            {
                "code": "openness",
                "title": "办事公开",
                "questions": _scale_items(
                    "haochaping5", [("openness_guide", "办事指南、流程和时限公开清楚")]
                ),
            },
            {
                "code": "commitment",
                "title": "承诺兑现",
                "questions": _scale_items(
                    "haochaping5", [("commitment_kept", "兑现窗口公开的服务承诺")]
                ),
            },
        ],
        "questions": [
            {
                "code": "done",
                "kind": "single",
                "text": "您本次办理的事项是否办结？",
                "options": ["已办结", "部分办结", "未办结"],
            },
            {
                "code": "improve",
                "kind": "multiple",
                "text": "您希望改进的方面（可多选）",
                "options": ["服务态度", "办事效率", "信息公开", "环境设施", "其他"],
            },
            *_closing("您对本窗口服务的总体评价", "haochaping5"),
        ],
    },
]
