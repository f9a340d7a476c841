import { z } from 'zod'
import { ArqJobRecord, CriterionScore, GradeJobOutcome, GradeResult, GradeSubmissionJob } from './jobs'
import { SUBMISSION_TRANSITIONS, FINAL_STATUSES } from './state-machine'
import { CEFR_CUTOFFS } from './scoring'
import { GRADING_POLICY, REVIEW_REASON_PRIORITY, REVIEW_REASONS, routeGrade, type RoutingInput } from './grading-policy'
import { DEFAULT_QUEUE_NAME, GRADE_SUBMISSION_FUNCTION } from './jobs'
import {
  Criterion,
  GradeSource,
  GRADING_MODES,
  GradingMode,
  REVIEW_PRIORITIES,
  ReviewPriority,
  SPEAKING_CRITERIA,
  Skill,
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

export function buildConstantsModule(): string {
  const transitions = Object.entries(SUBMISSION_TRANSITIONS)
    .map(([from, to]) => `    ${py(from)}: frozenset(${to.length ? `{${to.map((s) => py(s)).join(', ')}}` : ''}),`)
    .join('\n')
  return [
    '# Generated from packages/contracts by `bun run generate`. Do not edit.',
    'from typing import Final',
    '',
    `GRADE_SUBMISSION_FUNCTION: Final = ${py(GRADE_SUBMISSION_FUNCTION)}`,
    `DEFAULT_QUEUE_NAME: Final = ${py(DEFAULT_QUEUE_NAME)}`,
    `WRITING_CRITERIA: Final = (${WRITING_CRITERIA.map((c) => py(c)).join(', ')})`,
    `SPEAKING_CRITERIA: Final = (${SPEAKING_CRITERIA.map((c) => py(c)).join(', ')})`,
    `FINAL_STATUSES: Final = frozenset({${FINAL_STATUSES.map((s) => py(s)).join(', ')}})`,
    `CEFR_CUTOFFS: Final = (${CEFR_CUTOFFS.map((c) => `(${py(c.level)}, ${c.from.toFixed(1)})`).join(', ')})`,
    'SUBMISSION_TRANSITIONS: Final[dict[str, frozenset[str]]] = {',
    transitions,
    '}',
    '',
    '# The grading policy (packages/contracts/src/grading-policy.ts: GRADING_POLICY, REVIEW_REASONS,',
    '# REVIEW_REASON_PRIORITY). grader.routing mirrors routeGrade with these numbers.',
    `GRADING_MODES: Final = (${GRADING_MODES.map((m) => py(m)).join(', ')})`,
    `REVIEW_PRIORITIES: Final = (${REVIEW_PRIORITIES.map((p) => py(p)).join(', ')})`,
    `LOW_CONFIDENCE_BELOW: Final = ${pyFloat(GRADING_POLICY.lowConfidenceBelow)}`,
    `MEDIUM_CONFIDENCE_BELOW: Final = ${pyFloat(GRADING_POLICY.mediumConfidenceBelow)}`,
    `NEAR_CUTOFF_MARGIN: Final = ${pyFloat(GRADING_POLICY.nearCutoffMargin)}`,
    `ROUTING_CUTOFFS: Final = (${GRADING_POLICY.cutoffs.map(pyFloat).join(', ')})`,
    `SPOT_CHECK_SHARE: Final = ${pyFloat(GRADING_POLICY.spotCheckShare)}`,
    `HUMAN_MODE_PRIORITY: Final = ${py(GRADING_POLICY.humanModePriority)}`,
    `DEADLINE_MINUTES: Final[dict[str, int]] = ${pyDict(Object.entries(GRADING_POLICY.deadlineMinutes).map(([k, v]) => [k, String(v)]))}`,
    `CLAIM_TAKEOVER_MINUTES: Final = ${GRADING_POLICY.claimTakeoverMinutes}`,
    `DISAGREEMENT_ABOVE: Final = ${pyFloat(GRADING_POLICY.disagreementAbove)}`,
    `REVIEW_REASONS: Final = (${REVIEW_REASONS.map((r) => py(r)).join(', ')})`,
    `REVIEW_REASON_PRIORITY: Final[dict[str, str]] = ${pyDict(REVIEW_REASONS.map((r) => [r, py(REVIEW_REASON_PRIORITY[r])]))}`,
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
  const words: [number, number][] = [[40, 0], [119, 120], [120, 120]]
  const inputs: RoutingInput[] = []
  for (const mode of GRADING_MODES) {
    for (const [wordCount, minWords] of words) {
      for (const spotCheckDraw of [0, 0.049, 0.05, 0.999]) inputs.push({ mode, ai: null, wordCount, minWords, spotCheckDraw })
      // The draw decides only when nothing else does: the grid uses a draw above the share, and a
      // clear case (confident, far from a cut-off, on topic) is repeated with draws around it.
      for (const confidence of mode === 'hybrid' ? confidences : [0.3, 0.85]) {
        for (const overall of mode === 'hybrid' ? overalls : [4, 7.5]) {
          for (const offTopic of [false, true]) inputs.push({ mode, ai: { overall, confidence, offTopic }, wordCount, minWords, spotCheckDraw: 0.999 })
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
