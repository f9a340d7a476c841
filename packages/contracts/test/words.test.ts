import { describe, expect, test } from 'bun:test'
import { countWords } from '../src/words'

describe('countWords', () => {
  const cases: [string, number][] = [
    ['', 0],
    ['Three little words', 3],
    ['face-to-face meetings', 2],
    ["It's my cousin’s laptop", 4],
    ['In 2024, 3 people came.', 5],
    ['well -- maybe ... yes', 3],
    ['Tiếng Việt rất hay', 4],
    ['Tiếng Việt rất hay'.normalize('NFD'), 4], // accents as combining marks stay in their word
    ['snake_case counts as two', 5],
  ]
  for (const [text, expected] of cases) test(JSON.stringify(text), () => expect(countWords(text)).toBe(expected))
  test('the global pattern keeps no state between calls', () => {
    expect(countWords('one two')).toBe(2)
    expect(countWords('one two')).toBe(2)
  })
})
