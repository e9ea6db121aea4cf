"""analysis.themes' own TF-IDF extractor against jieba.analyse.TFIDF itself.

themes.py no longer imports jieba.analyse (its part-of-speech tables and second
IDF table cost ~130 MB and ~1 s per analysis); its extractor must give exactly
what jieba's gave on the same tokenizer, or theme keys would change between runs.
"""

from django.test import SimpleTestCase

from analysis import themes

TEXTS = [
    "希望加强与师生的沟通，多听取意见建议",
    "办事流程繁琐，等候时间太长，希望改进",
    "支部活动形式单一，学习流于形式",
    "服务态度很好，工作认真负责",
    "信息公开不够及时，通知经常很晚才发",
    "食堂饭菜价格偏高，分量少，希望后勤改进",
    "The office is open from 8 to 5, and that is fine",
    "宿舍热水供应不稳定，报修后很久才有人来处理",
    "图书馆座位紧张，期末复习找不到位置",
    "辅导员很负责，经常与同学谈心谈话",
    "教务系统选课时经常崩溃，希望升级服务器",
    "党支部三会一课落实到位，组织生活会质量较高",
]


class KeywordExtractorTests(SimpleTestCase):
    def test_the_same_weights_as_jieba_analyse(self):
        from jieba.analyse import TFIDF

        ours = themes._extractor()
        theirs = TFIDF()
        theirs.tokenizer = ours.tokenizer
        theirs.stop_words = theirs.STOP_WORDS | themes.stop_words()
        for size in (1, 3, len(TEXTS)):
            for start in range(0, len(TEXTS) - size + 1, 2):
                document = "\n".join(sorted(TEXTS[start : start + size]))
                self.assertEqual(
                    ours.extract_tags(document),
                    theirs.extract_tags(document, topK=None, withWeight=True),
                )

    def test_the_idf_table_is_jiebas(self):
        from jieba.analyse import default_tfidf

        ours = themes._extractor()
        self.assertEqual(ours.idf_freq, default_tfidf.idf_freq)
        self.assertEqual(ours.median_idf, default_tfidf.median_idf)
