"""Masking, keywords and themes of free-text comments (METHODS.md §6, §7)."""

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import jieba
import jieba.analyse
import numpy as np
import pytest
from scipy.spatial.distance import pdist

from analysis.masking import mask_personal
from analysis.themes import (
    Comment,
    Theme,
    _cosine_distances,
    _normalize,
    _vectorize,
    _with_unique_keys,
    keywords,
    negative_candidates,
    stop_words,
    themes,
)

# ------------------------------------------------------------------ masking

MASKED = [
    ("电话13812345678", "电话［电话］"),
    ("手机 138 1234 5678 随时联系", "手机 ［电话］ 随时联系"),
    ("手机138-1234-5678", "手机［电话］"),
    ("+86 13912345678", "［电话］"),
    ("+86-139-1234-5678。", "［电话］。"),
    ("8615912345678", "［电话］"),
    ("手机号１３８１２３４５６７８", "手机号［电话］"),
    ("办公室010-12345678", "办公室［电话］"),
    ("打0571-87654321没人接", "打［电话］没人接"),
    ("座机(021)6543 2109", "座机［电话］"),
    ("身份证110101199003071234", "身份证［证件号］"),
    ("身份证号11010119900307123X。", "身份证号［证件号］。"),
    ("证件 110101 19900307 123x", "证件 ［证件号］"),
    ("学号2021123456的同学", "学号［学号］的同学"),
    ("工号 20190001", "工号 ［学号］"),
    ("卡号6222021234567890123", "卡号［号码］"),
    ("发邮件到zhang.san@pku.edu.cn就行", "发邮件到［邮箱］就行"),
    ("邮箱12345678@qq.com", "邮箱［邮箱］"),
    ("QQ: 12345678", "QQ: ［QQ号］"),
    ("qq号123456有事找我", "qq号［QQ号］有事找我"),
    ("加QQ号码：1234567890", "加QQ号码：［QQ号］"),
    ("微信：zhangsan_2021", "微信：［微信号］"),
    ("vx abc12345", "vx ［微信号］"),
]

NOT_MASKED = [
    "2026年3月15日去的",
    "2025-2026学年第一学期",
    "3号楼502室漏水",
    "第2食堂的饭菜",
    "早上8点开门，8:30才有人",
    "排队排了2个小时",
    "一份菜15元",
    "打了10次电话",
    "报修单号1234567",  # 7 digits: below the student-number rule
    "订票打12306",
    "WiFi和VPN都连不上",
    "QQ群里通知的",
    "微信群里说过",
    "好评👍👍",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_it_masks_personal_numbers_and_addresses(text, expected):
    assert mask_personal(text) == expected


@pytest.mark.parametrize("text", NOT_MASKED)
def test_it_leaves_years_rooms_times_and_short_numbers(text):
    assert mask_personal(text) == text


def test_it_masks_every_occurrence_in_one_comment():
    text = "找张老师13812345678或李老师13987654321，学号20211234"
    assert mask_personal(text) == "找张老师［电话］或李老师［电话］，学号［学号］"


# ------------------------------------------------------------------ keywords


def test_the_campus_dictionary_keeps_its_terms_whole():
    # Without the dictionary jieba splits these terms, so the test can fail.
    plain = jieba.Tokenizer()
    assert "一站式服务中心" not in plain.lcut("去一站式服务中心办事")
    assert "三会一课" not in plain.lcut("落实三会一课制度")

    found = dict(
        keywords(
            [
                "去一站式服务中心办事要排很久的队",
                "一站式服务中心窗口太少",
                "支部的三会一课流于形式",
            ],
            top_k=20,
        )
    )

    assert "一站式服务中心" in found
    assert "三会一课" in found
    assert "一站式" not in found
    assert "服务中心" not in found


def test_the_campus_dictionary_does_not_leak_into_global_jieba():
    keywords(["一站式服务中心"])

    assert "一站式服务中心" not in jieba.lcut("去一站式服务中心办事")
    assert jieba.analyse.default_tfidf.tokenizer is jieba.dt
    assert "希望" not in jieba.analyse.default_tfidf.stop_words


def test_stop_words_are_never_keywords():
    texts = [
        "希望学校能够进一步加强管理，建议非常多，感觉问题比较大",
        "希望希望希望，建议建议，没有没有，问题问题，我们觉得非常",
        "我们认为这个方面的情况需要改进，希望能够提高，食堂价格太贵",
    ]
    tokens = set(jieba.Tokenizer().lcut("".join(texts)))
    assert {"希望", "建议", "没有", "问题", "非常"} <= tokens

    found = [word for word, _ in keywords(texts, top_k=50)]

    assert found  # the topic word survives
    assert "食堂" in found
    assert not set(found) & stop_words()


def test_keywords_ignore_numbers_masks_and_input_order():
    texts = ["报修电话13812345678打不通", "宿舍报修2026年还没人来", "报修 😡😡"]

    found = keywords(texts)

    assert [word for word, _ in found][0] == "报修"
    assert all(any(char.isalpha() for char in word) for word, _ in found)
    assert "电话" in dict(found)  # the word in the text, not the mask token
    assert keywords(list(reversed(texts))) == found
    assert keywords([]) == []
    assert keywords(texts, top_k=0) == []


def test_keyword_weights_are_ranked():
    found = keywords(["食堂食堂食堂价格", "食堂卫生"], top_k=5)

    weights = [weight for _, weight in found]
    assert found[0][0] == "食堂"
    assert weights == sorted(weights, reverse=True)


# ------------------------------------------------------------------ themes

# Two constructed corpora, each comment with the polarity of its respondent's
# 总体评价. Topics are written in varied words, as respondents write them. The
# distance threshold was chosen on the first corpus; the second was written
# afterwards and left alone, to check that the choice carries over.
REIMBURSEMENT = [
    ("财务处报销排队太久了，上午去下午才办完", "negative"),
    ("报销要排很长的队，窗口只开两个", "negative"),
    ("报销流程太复杂，排队时间长，效率低", "negative"),
    ("每次去财务处报销都要排一上午的队", "negative"),
    ("报销窗口太少，排队的人太多", "negative"),
    ("希望财务处多开几个报销窗口，排队太浪费时间", "negative"),
    ("报销排队慢，能不能网上预约", "neutral"),
    ("报销材料要求经常变，排队排到了又被退回", "negative"),
    ("财务处报销效率太低，排队两个小时", "negative"),
    ("报销的队伍排得很长，工作人员还中途休息", "negative"),
    ("建议报销实行预约制，减少排队", "neutral"),
    ("报销排队问题一直没解决", "negative"),
    ("财务报销排队时间太长，影响上课", "dont_know"),
    ("报销跑了三趟，排队太耗时间", "negative"),
]
CANTEEN = [
    ("食堂饭菜价格太贵了，分量还少", "negative"),
    ("食堂卫生不好，餐具上有油渍", "negative"),
    ("二食堂的菜价又涨了", "negative"),
    ("食堂价格偏高，卫生也一般", "neutral"),
    ("希望食堂降低价格，提高饭菜质量", "neutral"),
    ("食堂的饭菜不卫生，吃出过头发", "negative"),
    ("食堂菜品少价格贵", "negative"),
    ("食堂打饭阿姨手抖，价格还贵", "negative"),
    ("食堂卫生条件有待改善，桌子很脏", "negative"),
    ("食堂饭菜价格比外面还贵", "negative"),
    ("食堂的卫生和价格都需要管一管", "neutral"),
    ("食堂饭菜口味一般，价格偏贵", "dont_know"),
]
DORMITORY = [
    ("宿舍报修一周了还没人来修", "negative"),
    ("宿舍空调坏了报修很久没人管", "negative"),
    ("宿舍热水器报修后迟迟不来维修", "negative"),
    ("报修系统提交了没人处理，宿舍漏水", "negative"),
    ("宿舍门锁坏了，报修三次才修好", "negative"),
    ("宿舍报修太慢，维修师傅总是说没时间", "negative"),
    ("宿舍灯坏了报修了好几天", "negative"),
    ("希望宿舍报修能及时一点", "neutral"),
    ("宿舍卫生间下水道堵了，报修没人回复", "negative"),
    ("宿舍报修响应慢，修一次要等很久", "negative"),
    ("宿舍的报修流程不清楚，不知道找谁", "neutral"),
]
PRAISE = [
    ("老师服务态度很好，很耐心", "positive"),
    ("工作人员态度很好，办事效率高", "positive"),
    ("服务态度好，很热情", "positive"),
    ("老师们态度很好，辛苦了", "positive"),
    ("办事老师态度很好，讲解很耐心", "positive"),
    ("整体服务态度很好，点赞", "positive"),
    ("态度很好，效率也高", "positive"),
]
ASIDES = [
    ("图书馆座位太少，期末抢不到", "negative"),
    ("校车班次能不能多一些", "neutral"),
    ("希望多组织一些党课和主题党日活动", "positive"),
    ("校园网晚上网速很慢", "negative"),
    ("选课系统经常崩溃", "negative"),
    ("奖学金评定标准不透明", "negative"),
    ("辅导员很负责", "positive"),
    ("无", "dont_know"),
    ("没有意见", "positive"),
    ("👍👍👍", "positive"),
    ("。。。", "neutral"),
    ("好", "positive"),
]
CORPUS = {
    "reimbursement": REIMBURSEMENT,
    "canteen": CANTEEN,
    "dormitory": DORMITORY,
    "praise": PRAISE,
    "aside": ASIDES,
}

LIBRARY = [
    ("图书馆座位太少，考试周根本抢不到", "negative"),
    ("图书馆占座现象严重，希望管一管", "negative"),
    ("图书馆开放时间太短，晚上十点就关门", "negative"),
    ("希望图书馆延长开放时间", "neutral"),
    ("图书馆自习座位不够用", "negative"),
    ("图书馆里太吵了，座位也少", "negative"),
    ("期末图书馆一座难求", "negative"),
    ("图书馆的空调太冷，座位插座也坏了", "negative"),
    ("图书馆周末开放时间能不能长一点", "neutral"),
    ("图书馆座位预约系统不好用", "negative"),
]
NETWORK = [
    ("校园网网速太慢了", "negative"),
    ("晚上宿舍校园网经常断网", "negative"),
    ("校园网收费贵，网速还慢", "negative"),
    ("校园网老是掉线，上网课很受影响", "negative"),
    ("希望提升校园网速度", "neutral"),
    ("校园网认证经常失败", "negative"),
    ("教学楼校园网信号差", "negative"),
    ("校园网一到晚上就卡", "negative"),
    ("校园网套餐价格不合理，网速慢", "dont_know"),
]
PARTY = [
    ("三会一课有时流于形式", "negative"),
    ("党支部的三会一课内容比较单调", "neutral"),
    ("三会一课能不能结合实际，不要只念文件", "negative"),
    ("支部三会一课形式主义，签到拍照就结束", "negative"),
    ("党支部组织生活会走过场", "negative"),
    ("希望三会一课多一些讨论交流", "neutral"),
    ("党支部活动形式单一，三会一课照本宣科", "negative"),
    ("党支部组织生活会批评与自我批评不够", "neutral"),
]
OTHERS = [
    ("食堂饭菜还可以", "positive"),
    ("报销流程清楚了很多", "positive"),
    ("辅导员老师很负责，谢谢", "positive"),
    ("快递站太远", "negative"),
    ("体育馆周末不开放", "negative"),
    ("没有", "dont_know"),
    ("👌", "positive"),
]
HELD_OUT = {"library": LIBRARY, "network": NETWORK, "party": PARTY, "aside": OTHERS}


def comments_of(corpus):
    """The comments of a corpus and, position by position, their topic."""
    rows = [
        (text, polarity, topic) for topic, r in corpus.items() for text, polarity in r
    ]
    return [Comment(text, polarity) for text, polarity, _ in rows], [
        t for *_, t in rows
    ]


def theme_of_topic(found, topics, topic):
    """The theme holding most of a topic's comments, with recall and purity."""
    size = topics.count(topic)
    best = max(found, key=lambda theme: [topics[i] for i in theme.members].count(topic))
    hits = [topics[i] for i in best.members].count(topic)
    return best, hits / size, hits / best.count


@pytest.mark.parametrize(
    ("corpus", "big_topics"),
    [
        (CORPUS, ["reimbursement", "canteen", "dormitory", "praise"]),
        (HELD_OUT, ["library", "network", "party"]),
    ],
    ids=["tuned", "held-out"],
)
def test_it_puts_each_topic_mostly_in_a_theme_of_its_own(corpus, big_topics):
    comments, topics = comments_of(corpus)

    found = themes(comments)

    matched = []
    for topic in big_topics:
        theme, recall, purity = theme_of_topic(found, topics, topic)
        assert recall >= 0.7, (topic, recall)
        assert purity >= 0.8, (topic, purity)
        matched.append(theme.key)
    assert len(set(matched)) == len(big_topics)  # no two topics share a theme
    for theme in found:  # and the asides form no theme of their own
        assert [topics[i] for i in theme.members].count("aside") < theme.count / 2


def test_a_theme_reports_the_polarities_of_exactly_its_comments():
    comments, topics = comments_of(CORPUS)

    found = themes(comments)

    theme, _, _ = theme_of_topic(found, topics, "reimbursement")
    assert sorted(theme.members) == [
        i for i, topic in enumerate(topics) if topic == "reimbursement"
    ]
    polarities = [polarity for _, polarity in REIMBURSEMENT]
    rated = [p for p in polarities if p != "dont_know"]
    assert theme.count == 14
    assert theme.n_rated == len(rated) == 13
    assert theme.negative_share == rated.count("negative") / len(rated) == 11 / 13
    assert {"报销", "排队"} <= set(theme.keywords[:3])
    assert all(example in dict(REIMBURSEMENT) for example in theme.examples)


def test_themes_come_largest_first_with_keywords_and_examples():
    comments, _ = comments_of(CORPUS)

    found = themes(comments)

    counts = [theme.count for theme in found]
    assert counts == sorted(counts, reverse=True)
    for theme in found:
        assert theme.count == len(theme.members) >= 2
        assert 1 <= len(theme.examples) <= 3
        assert len(set(theme.examples)) == len(theme.examples)
        assert theme.keywords
        assert not set(theme.keywords) & stop_words()
    assert len({theme.key for theme in found}) == len(found)


def summary(found, comments):
    """What a theme says, with members as texts (positions change with order)."""
    return [
        (
            theme.key,
            theme.keywords,
            theme.count,
            theme.negative_share,
            theme.examples,
            theme.n_rated,
            sorted(comments[i].text for i in theme.members),
        )
        for theme in found
    ]


def test_it_gives_the_same_themes_and_keys_in_any_input_order():
    comments, _ = comments_of(CORPUS)
    expected = summary(themes(comments), comments)

    assert summary(themes(comments), comments) == expected
    for seed in range(3):
        shuffled = comments[:]
        random.Random(seed).shuffle(shuffled)
        assert summary(themes(shuffled), shuffled) == expected


KEYS_SCRIPT = """
import json, sys
from analysis.themes import Comment, themes
found = themes([Comment(text, polarity) for text, polarity in json.load(sys.stdin)])
print(json.dumps([[theme.key, theme.keywords] for theme in found]))
"""


def test_keys_do_not_depend_on_the_process():
    # Python salts str hashes per process; a set iterated in the wrong place
    # would change keywords or keys from one run to the next.
    comments, _ = comments_of(CORPUS)
    rows = json.dumps([[c.text, c.polarity] for c in comments])
    outputs = [
        subprocess.run(
            [sys.executable, "-c", KEYS_SCRIPT],
            input=rows,
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[2],
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    ]

    here = [[theme.key, theme.keywords] for theme in themes(comments)]
    assert [json.loads(output) for output in outputs] == [here, here]


def test_members_are_positions_in_the_input():
    comments = [
        Comment("食堂饭菜太贵", "negative"),
        Comment("校车太少", "neutral"),
        Comment("食堂饭菜太贵了", "negative"),
        Comment("无", "dont_know"),
        Comment("食堂饭菜价格太贵", "neutral"),
    ]

    (theme,) = themes(comments)

    assert theme.members == [0, 2, 4]
    assert theme.negative_share == 2 / 3


def test_examples_are_masked():
    comments = [
        Comment("宿舍报修没人来，联系我13812345678", "negative"),
        Comment("宿舍报修没人来，联系我13987654321", "negative"),
        Comment("宿舍报修没人来，我的邮箱a.b@pku.edu.cn", "negative"),
    ]

    (theme,) = themes(comments)

    assert theme.count == 3
    assert theme.examples[0] == "宿舍报修没人来，联系我［电话］"
    assert not any(char.isdigit() for char in "".join(theme.examples))
    assert "电话" not in theme.keywords


def test_max_themes_keeps_the_largest_without_merging():
    comments, _ = comments_of(CORPUS)
    full = themes(comments)

    capped = themes(comments, max_themes=2)

    assert summary(capped, comments) == summary(full[:2], comments)


def test_min_size_leaves_out_small_clusters():
    comments, _ = comments_of(CORPUS)

    found = themes(comments, min_size=8)

    assert [theme.count for theme in found] == [14, 12, 11]


def test_a_higher_threshold_gives_fewer_larger_themes():
    comments, _ = comments_of(CORPUS)

    fine = themes(comments, distance_threshold=0.5)
    coarse = themes(comments, distance_threshold=0.999)

    assert max(t.count for t in fine) < 14 < max(t.count for t in coarse)


# ------------------------------------------------------------------ edge cases


def test_no_comments_give_no_themes():
    assert themes([]) == []


def test_one_comment_is_a_theme_only_when_min_size_is_one():
    comment = Comment("报销排队太慢", "negative")

    assert themes([comment]) == []
    (theme,) = themes([comment], min_size=1)
    assert (theme.count, theme.members, theme.negative_share) == (1, [0], 1.0)
    assert theme.examples == ["报销排队太慢"]
    assert "报销" in theme.keywords


def test_identical_comments_form_one_theme_with_one_example():
    comments = [Comment("食堂太贵", "negative")] * 4 + [
        Comment("食堂太贵", "dont_know")
    ]

    (theme,) = themes(comments)

    assert theme.count == 5
    assert theme.examples == ["食堂太贵"]
    assert (theme.n_rated, theme.negative_share) == (4, 1.0)


def test_very_short_comments_group_without_keywords():
    comments = [Comment(text, "positive") for text in ("好", "好！", "行", "好")]

    (theme,) = themes(comments)

    assert theme.count == 3
    assert theme.keywords == []
    assert theme.examples == ["好", "好！"]
    assert len(theme.key) == 10


def test_emoji_and_null_answers_are_left_out():
    comments = [
        Comment(text, "positive")
        for text in ("👍👍", "👍👍", "😊", "无", "无", "没有意见", "。。。", "  ")
    ]

    assert themes(comments) == []


def test_emoji_inside_a_comment_do_not_matter():
    comments = [
        Comment("食堂太贵了😡😡", "negative"),
        Comment("食堂太贵了", "negative"),
        Comment("食堂太贵了👎", "neutral"),
    ]

    (theme,) = themes(comments)

    assert theme.count == 3


def test_comments_sharing_nothing_form_no_theme():
    comments = [Comment("报销太慢", "negative"), Comment("食堂很好", "positive")]

    assert themes(comments) == []


def test_an_unknown_polarity_is_refused():
    with pytest.raises(ValueError, match="polarity"):
        themes([Comment("食堂太贵", "angry")])


def test_a_theme_of_dont_know_only_has_no_negative_share():
    comments = [Comment("食堂太贵", "dont_know")] * 3

    (theme,) = themes(comments)

    assert (theme.n_rated, theme.negative_share) == (0, 0.0)


# ------------------------------------------------------------------ candidates


def make_theme(key, *, count, n_rated, negative_share):
    return Theme(
        key=key,
        keywords=[],
        count=count,
        negative_share=negative_share,
        examples=[],
        n_rated=n_rated,
        members=list(range(count)),
    )


def test_negative_candidates_need_enough_rated_and_negative_comments():
    strong = make_theme("a", count=6, n_rated=5, negative_share=0.6)
    too_few_rated = make_theme("b", count=9, n_rated=4, negative_share=1.0)
    too_positive = make_theme("c", count=20, n_rated=20, negative_share=0.55)

    found = negative_candidates([strong, too_few_rated, too_positive])

    assert found == [strong]
    assert negative_candidates([too_positive], min_negative_share=0.5) == [too_positive]
    assert negative_candidates([too_few_rated], min_count=4) == [too_few_rated]


def test_the_corpus_topics_of_complaints_are_candidates_and_praise_is_not():
    comments, topics = comments_of(CORPUS)
    found = themes(comments)

    candidates = {theme.key for theme in negative_candidates(found)}

    for topic in ("reimbursement", "canteen", "dormitory"):
        assert theme_of_topic(found, topics, topic)[0].key in candidates
    assert theme_of_topic(found, topics, "praise")[0].key not in candidates


# ------------------------------------------------------------------ internals


def test_cosine_distances_match_scipy(monkeypatch):
    comments, _ = comments_of(CORPUS)
    texts = [_normalize(c.text) for c in comments if _normalize(c.text)]
    vectors = _vectorize(texts)
    nonzero = np.flatnonzero(vectors.getnnz(axis=1))
    vectors = vectors[nonzero]
    monkeypatch.setattr("analysis.themes._BLOCK_ROWS", 7)  # several blocks

    ours = _cosine_distances(vectors)

    np.testing.assert_allclose(ours, pdist(vectors.toarray(), "cosine"), atol=1e-12)


@pytest.mark.parametrize("corpus", [CORPUS, HELD_OUT], ids=["corpus", "held_out"])
def test_tf_idf_is_scikit_learns_to_the_last_bit(corpus):
    from sklearn.feature_extraction.text import TfidfVectorizer

    from analysis.themes import _ngrams

    comments, _ = comments_of(corpus)
    texts = [_normalize(mask_personal(c.text)) for c in comments]
    texts = [t for t in texts if t]
    # Repeated comments too, in another order: the memo of each text's n-grams
    # and the first-met order of the columns must not change anything.
    texts += texts[::3]
    random.Random(7).shuffle(texts)

    ours = _vectorize(texts)
    theirs = (
        TfidfVectorizer(analyzer=_ngrams, min_df=2, sublinear_tf=True)
        .fit_transform(texts)
        .tocsr()
    )

    assert ours.shape == theirs.shape
    assert ours.shape[1] > 20
    np.testing.assert_array_equal(ours.indptr, theirs.indptr)
    np.testing.assert_array_equal(ours.indices, theirs.indices)
    np.testing.assert_array_equal(ours.data, theirs.data)


def test_tf_idf_of_texts_sharing_nothing_is_empty():
    assert _vectorize(["甲乙", "丙丁"]).shape == (2, 0)
    assert _vectorize(["甲乙"]).shape == (1, 0)


def test_repeated_keys_get_a_suffix():
    twins = [
        make_theme("k", count=3, n_rated=3, negative_share=0.0),
        make_theme("k", count=3, n_rated=3, negative_share=1.0),
    ]

    assert [theme.key for theme in _with_unique_keys(twins)] == ["k", "k-2"]
