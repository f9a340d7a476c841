"""The worker counts words exactly as the API does.

The same cases sit in apps/api/test/submissions/text.test.ts.
"""

import pytest

from grader.scoring.base import count_words

CASES = [
    ("", 0),
    ("Three little words", 3),
    ("face-to-face meetings", 2),
    ("It's my cousin\u2019s laptop", 4),
    ("In 2024, 3 people came.", 5),
    ("well -- maybe ... yes", 3),
    ("Tiếng Việt rất hay", 4),
    ("snake_case counts as two", 5),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_count_words_matches_the_api_rule(text: str, expected: int) -> None:
    assert count_words(text) == expected
