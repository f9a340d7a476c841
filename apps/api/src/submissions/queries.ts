import { asc, eq, inArray } from 'drizzle-orm'
import { cefrOf, type Grade, type Submission, type SubmissionSummary } from '@vstep/contracts'
import { gradeCriteria, grades, submissions, type Database } from '@vstep/db'

export type SubmissionRow = typeof submissions.$inferSelect

export async function gradesOf(db: Database, submissionId: string): Promise<Grade[]> {
  const gradeRows = await db.select().from(grades).where(eq(grades.submissionId, submissionId)).orderBy(asc(grades.createdAt))
  if (gradeRows.length === 0) return []
  const criteriaRows = await db
    .select()
    .from(gradeCriteria)
    .where(
      inArray(
        gradeCriteria.gradeId,
        gradeRows.map((g) => g.id),
      ),
    )
  return gradeRows.map((g) => ({
    id: g.id,
    source: g.source,
    overall: g.overall,
    cefr: cefrOf(g.overall),
    criteria: criteriaRows
      .filter((c) => c.gradeId === g.id)
      .map((c) => ({ criterion: c.criterion, score: c.score, feedback: c.feedback, annotations: c.annotations })),
    feedback: g.feedback,
    provider: g.provider,
    model: g.model,
    rubricVersion: g.rubricVersion,
    confidence: g.confidence,
    origin: g.source === 'ai' ? g.origin : null,
    createdAt: g.createdAt.toISOString(),
  }))
}

export const toSubmission = (row: SubmissionRow, gradeList: Grade[]): Submission => ({
  id: row.id,
  taskId: row.taskId,
  userId: row.userId,
  skill: row.skill,
  status: row.status,
  gradingMode: row.gradingMode,
  reviewPriority: row.reviewPriority,
  answerText: row.answerText,
  wordCount: row.wordCount,
  attempts: row.attempts,
  lastErrorCode: row.lastErrorCode,
  deadlineAt: row.deadlineAt?.toISOString() ?? null,
  late: row.late,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
  grades: gradeList,
  audio:
    row.audioRef && row.audioMediaType
      ? { mediaType: row.audioMediaType, bytes: row.audioBytes ?? 0, durationSeconds: row.audioSeconds ?? 0 }
      : null,
  transcript: row.transcript,
})

export async function findSubmissionRow(db: Database, id: string): Promise<SubmissionRow | null> {
  const [row] = await db.select().from(submissions).where(eq(submissions.id, id))
  return row ?? null
}

export const toSubmissionSummary = (row: SubmissionRow, overall: number | null): SubmissionSummary => {
  const { grades: _g, answerText: _a, transcript: _t, ...rest } = toSubmission(row, [])
  return { ...rest, overall }
}

/** The final grade of a submission: the human one when a reviewer has graded it, else the AI one. */
export const finalGradeOf = (list: Grade[]): Grade | null =>
  list.find((g) => g.source === 'human') ?? list.find((g) => g.source === 'ai') ?? null
