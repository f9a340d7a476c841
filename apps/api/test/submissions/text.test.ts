import { describe, expect, test } from 'bun:test'
import { countWords } from '../../src/submissions/text'

// The same cases sit in workers/grader-py/tests/test_word_count.py: both sides count alike.
const CASES: [string, number][] = [
  ['', 0],
  ['Three little words', 3],
  ['face-to-face meetings', 2],
  ["It's my cousin’s laptop", 4],
  ['In 2024, 3 people came.', 5],
  ['well -- maybe ... yes', 3],
  ['Tiếng Việt rất hay', 4],
  ['snake_case counts as two', 5],
]

describe('countWords', () => {
  for (const [text, expected] of CASES) test(JSON.stringify(text), () => expect(countWords(text)).toBe(expected))
})
