/**
 * What counts as a word, for the live count on the web page, the `wordCount` the API stores and the
 * worker's length checks: a run of letters or digits (Unicode `L`, `N`) with the combining marks that
 * follow them (`M`: accents typed as separate code points, Devanagari vowel signs), and inner ' ’ or -
 * ("face-to-face", "cousin’s" are one word each). Punctuation, `_`, symbols and spaces separate words.
 * The worker gets the same rule as a generated regular expression whose classes are spelled out code
 * point by code point (grader/contracts/words.py), so a Python with older Unicode tables than Bun's
 * still counts exactly like this.
 */
export const WORD_START_CLASS = String.raw`[\p{L}\p{N}]`
export const WORD_MARK_CLASS = String.raw`[\p{M}]`
export const WORD_JOINERS = `'’-`
const part = `${WORD_START_CLASS}(?:${WORD_START_CLASS}|${WORD_MARK_CLASS})*`
export const WORD_PATTERN = new RegExp(`${part}(?:[${WORD_JOINERS}]${part})*`, 'gu')

export function countWords(text: string): number {
  return text.match(WORD_PATTERN)?.length ?? 0
}
