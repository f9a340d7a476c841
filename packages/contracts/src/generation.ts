import { z } from 'zod'
import { ArqJobRecord, CriterionScore, GradeJobOutcome, GradeResult, GradeSubmissionJob } from './jobs'
import { SUBMISSION_TRANSITIONS, FINAL_STATUSES } from './state-machine'
import { CEFR_CUTOFFS } from './scoring'
import { DEFAULT_QUEUE_NAME, GRADE_SUBMISSION_FUNCTION } from './jobs'
import {
  Criterion,
  GradeSource,
  GradingMode,
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
  ].join('\n')
}
