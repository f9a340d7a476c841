import { z } from 'zod'
import { ACTORS, EVENT_REASONS, LAST_ERROR_CODES } from './codes'
import {
  ARQ_KEYS,
  ArqJobRecord,
  CriterionScore,
  DEFAULT_QUEUE_NAME,
  GRADE_SUBMISSION_FUNCTION,
  GradeJobOutcome,
  GradeOrigin,
  GradeResult,
  GradeSubmissionJob,
  ProviderGradeAnswer,
} from './jobs'
import { AI_GRADING_STATUSES, FINAL_STATUSES, SUBMISSION_TRANSITIONS, TERMINAL_STATUSES } from './state-machine'
import { CEFR_CUTOFFS, CEFR_LABELS, cefrOf, overallOf, roundToHalf, SCORE_DECIMALS, SCORE_MAX, SCORE_MIN } from './scoring'
import { GRADING_POLICY, REVIEW_REASON_PRIORITY, REVIEW_REASONS, routeGrade, type RoutingInput } from './grading-policy'
import { countWords, WORD_JOINERS, WORD_MARK_CLASS, WORD_START_CLASS } from './words'
import {
  Criterion,
  GradeSource,
  GRADING_MODES,
  GradingMode,
  REVIEW_PRIORITIES,
  ReviewPriority,
  SPEAKING_CRITERIA,
  Skill,
  SUBMISSION_STATUSES,
  SubmissionStatus,
  TaskPart,
  WRITING_CRITERIA,
} from './vocabulary'

/** The schemas the Python worker shares with TypeScript, by the name they get in Python. */
export const WORKER_SCHEMAS = {
  Skill,
  TaskPart,
  SubmissionStatus,
  GradingMode,
  ReviewPriority,
  GradeSource,
  Criterion,
  GradeSubmissionJob,
  ArqJobRecord,
  CriterionScore,
  GradeResult,
  GradeJobOutcome,
  GradeOrigin,
  ProviderGradeAnswer,
} as const

export function buildSchemaBundle(): Record<string, unknown> {
  const registry = z.registry<{ id: string; title: string }>()
  for (const [name, schema] of Object.entries(WORKER_SCHEMAS)) registry.add(schema, { id: name, title: name })
  const { schemas } = z.toJSONSchema(registry, { uri: (id) => `#/$defs/${id}`, target: 'draft-2020-12' })
  const defs: Record<string, unknown> = {}
  for (const name of Object.keys(schemas).sort()) {
    const { $schema: _drop, $id: _id, ...rest } = schemas[name] as Record<string, unknown>
    defs[name] = rest
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'WorkerContracts',
    description: 'Generated from packages/contracts. Do not edit.',
    $defs: defs,
  }
}

const py = (value: unknown): string => JSON.stringify(value).replaceAll('null', 'None')
/** A Python float literal: 4 -> 4.0, 0.05 -> 0.05. */
const pyFloat = (n: number): string => (Number.isInteger(n) ? n.toFixed(1) : String(n))
const pyDict = (entries: [string, string][]): string => `{${entries.map(([k, v]) => `${py(k)}: ${v}`).join(', ')}}`

const pyTuple = (items: readonly string[]): string => `(${items.map((i) => py(i)).join(', ')}${items.length === 1 ? ',' : ''})`
const pyFrozenset = (items: readonly string[]): string =>
  items.length ? `frozenset({${items.map((i) => py(i)).join(', ')}})` : 'frozenset()'
const pyLiteral = (items: readonly string[]): string => `Literal[${items.map((i) => py(i)).join(', ')}]`

export function buildConstantsModule(): string {
  const transitions = Object.entries(SUBMISSION_TRANSITIONS)
    .map(([from, to]) => `    ${py(from)}: ${pyFrozenset(to)},`)
    .join('\n')
  return [
    '# Generated from packages/contracts by `bun run generate`. Do not edit.',
    'from typing import Final, Literal, TypeAlias',
    '',
    "# The queue (jobs.ts): function and queue names, arq's key layout.",
    `GRADE_SUBMISSION_FUNCTION: Final = ${py(GRADE_SUBMISSION_FUNCTION)}`,
    `DEFAULT_QUEUE_NAME: Final = ${py(DEFAULT_QUEUE_NAME)}`,
    `ARQ_JOB_KEY_PREFIX: Final = ${py(ARQ_KEYS.jobPrefix)}`,
    `ARQ_RESULT_KEY_PREFIX: Final = ${py(ARQ_KEYS.resultPrefix)}`,
    `ARQ_IN_PROGRESS_KEY_PREFIX: Final = ${py(ARQ_KEYS.inProgressPrefix)}`,
    `ARQ_RETRY_KEY_PREFIX: Final = ${py(ARQ_KEYS.retryPrefix)}`,
    `ARQ_HEALTH_CHECK_SUFFIX: Final = ${py(ARQ_KEYS.healthCheckSuffix)}`,
    '',
    '# Vocabulary (vocabulary.ts).',
    `WRITING_CRITERIA: Final = ${pyTuple(WRITING_CRITERIA)}`,
    `SPEAKING_CRITERIA: Final = ${pyTuple(SPEAKING_CRITERIA)}`,
    `GradingModeName: TypeAlias = ${pyLiteral(GRADING_MODES)}`,
    `SubmissionStatusName: TypeAlias = ${pyLiteral(SUBMISSION_STATUSES)}`,
    '',
    '# The lifecycle (state-machine.ts): transitions and the status sets.',
    'SUBMISSION_TRANSITIONS: Final[dict[str, frozenset[str]]] = {',
    transitions,
    '}',
    `TERMINAL_STATUSES: Final = ${pyFrozenset(TERMINAL_STATUSES)}`,
    `FINAL_STATUSES: Final = ${pyFrozenset(FINAL_STATUSES)}`,
    `AI_GRADING_STATUSES: Final = ${pyFrozenset(AI_GRADING_STATUSES)}`,
    '',
    '# Scores (scoring.ts): range, decimal places read before rounding, CEFR cut-offs and labels.',
    `SCORE_MIN: Final = ${pyFloat(SCORE_MIN)}`,
    `SCORE_MAX: Final = ${pyFloat(SCORE_MAX)}`,
    `SCORE_DECIMALS: Final = ${SCORE_DECIMALS}`,
    `CEFR_CUTOFFS: Final = (${CEFR_CUTOFFS.map((c) => `(${py(c.level)}, ${pyFloat(c.from)})`).join(', ')})`,
    `CEFR_BELOW_CUTOFFS: Final = ${py(cefrOf(SCORE_MIN))}`,
    `CEFR_LABELS: Final[dict[str, str]] = ${pyDict(Object.entries(CEFR_LABELS).map(([k, v]) => [k, py(v)]))}`,
    '',
    "# Codes (codes.ts): last_error_code values, the worker's actor name, fixed event reasons.",
    `LastErrorCode: TypeAlias = ${pyLiteral(LAST_ERROR_CODES)}`,
    `WORKER_ACTOR: Final = ${py(ACTORS.worker)}`,
    `EVENT_REASON_GRADING_STARTED: Final = ${py(EVENT_REASONS.gradingStarted)}`,
    '',
    '# The grading policy (packages/contracts/src/grading-policy.ts: GRADING_POLICY, REVIEW_REASONS,',
    '# REVIEW_REASON_PRIORITY). grader.routing mirrors routeGrade with these numbers. Deadlines,',
    "# review claims and the disagreement audit are the API's business and are not generated.",
    `REVIEW_PRIORITIES: Final = ${pyTuple(REVIEW_PRIORITIES)}`,
    `ReviewPriorityName: TypeAlias = ${pyLiteral(REVIEW_PRIORITIES)}`,
    `ReviewReason: TypeAlias = ${pyLiteral(REVIEW_REASONS)}`,
    `LOW_CONFIDENCE_BELOW: Final = ${pyFloat(GRADING_POLICY.lowConfidenceBelow)}`,
    `MEDIUM_CONFIDENCE_BELOW: Final = ${pyFloat(GRADING_POLICY.mediumConfidenceBelow)}`,
    `NEAR_CUTOFF_MARGIN: Final = ${pyFloat(GRADING_POLICY.nearCutoffMargin)}`,
    `ROUTING_CUTOFFS: Final = (${GRADING_POLICY.cutoffs.map(pyFloat).join(', ')})`,
    `SPOT_CHECK_SHARE: Final = ${pyFloat(GRADING_POLICY.spotCheckShare)}`,
    `HUMAN_MODE_PRIORITY: Final = ${py(GRADING_POLICY.humanModePriority)}`,
    `REVIEW_REASON_PRIORITY: Final[dict[str, str]] = ${pyDict(REVIEW_REASONS.map((r) => [r, py(REVIEW_REASON_PRIORITY[r])]))}`,
    '',
  ].join('\n')
}

/** `\uXXXX` / `\UXXXXXXXX`, as Python's `re` reads it in a raw string. */
const pyReEscape = (cp: number): string =>
  cp <= 0xffff ? `\\u${cp.toString(16).padStart(4, '0')}` : `\\U${cp.toString(16).padStart(8, '0')}`

/** The code point ranges a JavaScript character class matches, from this runtime's Unicode tables. */
export function codePointRanges(charClass: string): [number, number][] {
  const re = new RegExp(`^${charClass}$`, 'u')
  const ranges: [number, number][] = []
  let start = -1
  for (let cp = 0; cp <= 0x110000; cp++) {
    const inside = cp < 0x110000 && (cp < 0xd800 || cp > 0xdfff) && re.test(String.fromCodePoint(cp))
    if (inside && start < 0) start = cp
    if (!inside && start >= 0) {
      ranges.push([start, cp - 1])
      start = -1
    }
  }
  return ranges
}

/** A Python `re` character class listing the code points `charClass` matches here, 96 characters a line. */
function pyCharClass(charClass: string): string[] {
  const items = codePointRanges(charClass).map(([a, b]) => (a === b ? pyReEscape(a) : `${pyReEscape(a)}-${pyReEscape(b)}`))
  const lines: string[] = ['    r"["']
  let line = ''
  for (const item of items) {
    if (line.length + item.length > 96) {
      lines.push(`    r"${line}"`)
      line = ''
    }
    line += item
  }
  if (line) lines.push(`    r"${line}"`)
  lines.push('    r"]"')
  return lines
}

/**
 * The word rule (words.ts) as a Python module: the classes spelled out as code point ranges, so
 * Python's `re` (whose Unicode tables may be older than Bun's) matches exactly what `\p{L}\p{N}` and
 * `\p{M}` match here.
 */
export function buildWordsModule(): string {
  const joiners = [...WORD_JOINERS].map((c) => pyReEscape(c.codePointAt(0) ?? 0)).join('')
  return [
    '# Generated from packages/contracts (src/words.ts) by `bun run generate`. Do not edit.',
    `r"""What counts as a word: letters or digits ${WORD_START_CLASS} with their combining marks ${WORD_MARK_CLASS},`,
    `joined by one of ${[...WORD_JOINERS].map((c) => `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`).join(' ')}."""`,
    '',
    'import re',
    'from typing import Final',
    '',
    'WORD_START_CLASS: Final = (',
    ...pyCharClass(WORD_START_CLASS),
    ')',
    'WORD_MARK_CLASS: Final = (',
    ...pyCharClass(WORD_MARK_CLASS),
    ')',
    `WORD_JOINERS: Final = r"[${joiners}]"`,
    '_PART: Final = f"{WORD_START_CLASS}(?:{WORD_START_CLASS}|{WORD_MARK_CLASS})*"',
    'WORD_PATTERN: Final = re.compile(f"{_PART}(?:{WORD_JOINERS}{_PART})*")',
    '',
  ].join('\n')
}

/**
 * Routing test vectors: inputs over a grid of modes, confidences, overalls, off-topic, word counts and
 * spot-check draws, each with the decision the TypeScript `routeGrade` makes. The Python twin
 * (grader.routing) must reproduce every one (workers/grader-py/tests/test_routing_vectors.py).
 * Values sit on and around every threshold: 0.5 / 0.7 confidence, ±0.25 of 4.0 / 6.0 / 8.5, minWords,
 * the 0.05 spot-check share. One vector per line, so a policy change shows as a readable diff.
 */
export function buildRoutingVectors(): string {
  const confidences = [0, 0.49, 0.5, 0.69, 0.7, 0.85]
  const overalls = [3, 3.74, 3.75, 4, 4.25, 4.26, 5, 5.75, 6.25, 6.5, 8.24, 8.25, 8.75, 8.76]
  const words: [number, number][] = [
    [40, 0],
    [119, 120],
    [120, 120],
  ]
  const inputs: RoutingInput[] = []
  for (const mode of GRADING_MODES) {
    for (const [wordCount, minWords] of words) {
      for (const spotCheckDraw of [0, 0.049, 0.05, 0.999]) inputs.push({ mode, ai: null, wordCount, minWords, spotCheckDraw })
      // The draw decides only when nothing else does: the grid uses a draw above the share, and a
      // clear case (confident, far from a cut-off, on topic) is repeated with draws around it.
      for (const confidence of mode === 'hybrid' ? confidences : [0.3, 0.85]) {
        for (const overall of mode === 'hybrid' ? overalls : [4, 7.5]) {
          for (const offTopic of [false, true])
            inputs.push({ mode, ai: { overall, confidence, offTopic }, wordCount, minWords, spotCheckDraw: 0.999 })
        }
      }
      for (const spotCheckDraw of [0, 0.049, 0.05]) {
        inputs.push({ mode, ai: { overall: 7.5, confidence: 0.85, offTopic: false }, wordCount, minWords, spotCheckDraw })
      }
    }
  }
  const lines = inputs.map((input) => JSON.stringify({ input, expected: routeGrade(input) }))
  const header = '"description": "Generated from packages/contracts (routeGrade) by `bun run generate`. Do not edit."'
  return `{\n${header},\n"vectors": [\n${lines.join(',\n')}\n]\n}\n`
}

/** A deterministic stream of draws in [0, 1) (an LCG), so the vector file is the same on every run. */
function draws(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

const attempt = <T>(run: () => T): T | null => {
  try {
    return run()
  } catch (error) {
    if (error instanceof RangeError) return null
    throw error
  }
}

/**
 * Test vectors for every other shared function: roundToHalf, overallOf, cefrOf (code and label),
 * countWords and the status sets, each with what the TypeScript implementation answers (`null`: it
 * refuses the input). The worker's twins must answer the same (workers/grader-py/tests/
 * test_contract_vectors.py); packages/contracts/test/contract-vectors.test.ts replays them here.
 * Rounding inputs sit on every quarter from -0.5 to 10.5, around the ties, at the edge of the
 * 12 decimal places, and include sums whose binary value misses the decimal tie they mean.
 */
export function buildContractVectors(): string {
  const rounding: { note: string; input: number }[] = []
  for (let q = -2; q <= 42; q++) rounding.push({ note: `${q}/4`, input: q / 4 })
  for (const input of [0.1, 0.24, 0.26, 3.74, 3.76, 6.24, 6.26, 6.333333, 6.666667, 7.3, 9.9, 9.75, 9.76])
    rounding.push({ note: 'off the grid', input })
  const edges: [string, number][] = [
    ['10 decimals below a tie: exact, so down', 6.2499999999],
    ['10 decimals above a tie', 6.2500000001],
    ['12 decimals below a tie', 6.249999999999],
    ['13th decimal rounds up into the tie', 3.7499999999995],
    ['13th decimal rounds down', 3.7499999999994],
    ['the double just below 6.25', 6.249999999999999],
    ['the double just above 6.25', 6.250000000000001],
    ['0.01 + 2.34 + 0.9 means 3.25', 0.01 + 2.34 + 0.9],
    ['0.01 + 2.44 + 0.3 means 2.75', 0.01 + 2.44 + 0.3],
    ['0.03 + 1.12 + 0.1 means 1.25', 0.03 + 1.12 + 0.1],
    ['0.1 + 0.2', 0.1 + 0.2],
    ['0.1 + 0.7', 0.1 + 0.7],
    ['0.75 * 3.3 means 2.475', 0.75 * 3.3],
    ['exponent notation', 1e-7],
    ['exponent notation', 1.5e-7],
    ['smallest double', 5e-324],
    ['below 0 by less than half a unit of 1e-12', -4e-13],
    ['below 0 by more than half a unit of 1e-12', -6e-13],
    ['above 10 by less than half a unit of 1e-12', 10.0000000000004],
    ['above 10 by a unit of 1e-12', 10.000000000001],
    ['negative', -0.5],
    ['negative', -3],
    ['above 10', 10.25],
    ['above 10', 11.5],
    ['huge', 1e300],
  ]
  for (const [note, input] of edges) rounding.push({ note, input })

  const next = draws(20_26)
  const grid = (lo: number, hi: number) => lo + Math.floor(next() * ((hi - lo) * 2 + 1)) / 2
  const overall: number[][] = [
    [6, 6.5, 7, 5.5],
    [5, 5, 5.5, 5],
    [7, 7.5, 8, 8, 7],
    [6, 6, 6, 6.5],
    [7, 6.5, 7, 6.5],
    [10, 10, 10, 10],
    [0, 0, 0, 0, 0.5],
    [6.1, 6.2, 6.4],
    [],
  ]
  for (let i = 0; i < 120; i++) {
    const n = i % 2 === 0 ? 4 : 5
    const centre = grid(2, 8)
    overall.push(Array.from({ length: n }, () => Math.min(10, Math.max(0, centre + grid(-1.5, 1.5)))))
  }

  const cefr: number[] = []
  for (let h = 0; h <= 20; h++) cefr.push(h / 2)
  cefr.push(3.99, 3.999999999999, 5.99, 8.49, 8.4999999)

  const words: [string, string][] = [
    ['empty', ''],
    ['spaces only', ' \t\n '],
    ['plain', 'Three little words'],
    ['inner hyphens', 'face-to-face meetings'],
    ['apostrophes, straight and curly', "It's my cousin’s laptop"],
    ['digits', 'In 2024, 3 people came.'],
    ['dashes and dots separate', 'well -- maybe ... yes'],
    ['Vietnamese, precomposed (NFC)', 'Tiếng Việt rất hay'],
    ['Vietnamese, decomposed (NFD): combining marks stay in their word', 'Tiếng Việt'.normalize('NFD')],
    ['Hindi: vowel signs and virama are marks', 'हिन्दी भाषा'],
    ['a mark with no letter before it is not a word', '\u0301 a\u0301'],
    ['underscore separates', 'snake_case counts as two'],
    ['joiner at the edges', "-dash 'quote' end- ’curly’"],
    ['doubled joiners split', "rock--n--roll it''s"],
    ['mixed joiners', "o'clock-ish rock’n’roll"],
    ['CJK ideographs are one run', '漢字かな交じり文 テスト'],
    ['Arabic-Indic digits and letters', 'العربية ١٢٣'],
    ['emoji and symbols separate', 'good👍job ++ 5% €5'],
    ['superscripts and fractions are numbers', 'x² ½ Ⅻ'],
    ['a letter new in Unicode 16 (U+A7CB) joins its neighbours', 'ab\ua7cbcd ef'],
    ['CJK extension letter (U+31350, Unicode 15)', '\u{31350}\u{31351} x'],
    ['email and URL', 'mail me at a.b@c.com or https://x.org/a-b'],
    ['newlines and tabs', 'one\ntwo\tthree\r\nfour'],
    ['non-breaking and zero-width spaces', 'a\u00a0b\u200bc'],
  ]

  const lines = [
    ...rounding.map(({ note, input }) => JSON.stringify({ fn: 'roundToHalf', note, input, expected: attempt(() => roundToHalf(input)) })),
    ...overall.map((input) => JSON.stringify({ fn: 'overallOf', input, expected: attempt(() => overallOf(input)) })),
    ...cefr.map((input) => JSON.stringify({ fn: 'cefrOf', input, expected: { level: cefrOf(input), label: CEFR_LABELS[cefrOf(input)] } })),
    ...words.map(([note, input]) => JSON.stringify({ fn: 'countWords', note, input, expected: countWords(input) })),
    ...SUBMISSION_STATUSES.map((input) =>
      JSON.stringify({
        fn: 'statusSets',
        input,
        expected: {
          terminal: (TERMINAL_STATUSES as readonly string[]).includes(input),
          final: (FINAL_STATUSES as readonly string[]).includes(input),
          aiGrading: (AI_GRADING_STATUSES as readonly string[]).includes(input),
        },
      }),
    ),
  ]
  const header =
    '"description": "Generated from packages/contracts by `bun run generate`. Do not edit. null: the function refuses the input."'
  return `{\n${header},\n"vectors": [\n${lines.join(',\n')}\n]\n}\n`
}
