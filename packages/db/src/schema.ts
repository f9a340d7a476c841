import { sql } from 'drizzle-orm'
import {
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  numeric,
  pgEnum,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'
import {
  type Annotation,
  CRITERIA,
  GRADE_ORIGINS,
  GRADE_SOURCES,
  GRADING_MODES,
  REVIEW_PRIORITIES,
  SKILLS,
  SUBMISSION_STATUSES,
  TASK_PARTS,
  USER_ROLES,
} from '@vstep/contracts'

export const skill = pgEnum('skill', SKILLS)
export const taskPart = pgEnum('task_part', TASK_PARTS)
export const submissionStatus = pgEnum('submission_status', SUBMISSION_STATUSES)
export const gradingMode = pgEnum('grading_mode', GRADING_MODES)
export const reviewPriority = pgEnum('review_priority', REVIEW_PRIORITIES)
export const gradeSource = pgEnum('grade_source', GRADE_SOURCES)
export const userRole = pgEnum('user_role', USER_ROLES)
export const criterion = pgEnum('criterion', CRITERIA)

const createdAt = () => timestamp({ withTimezone: true }).notNull().defaultNow()
/** Scores are exact decimals 0.0–10.0; the check keeps them on the 0.5 grid whoever writes them. */
const score = (name: string) => numeric(name, { precision: 3, scale: 1, mode: 'number' })
const onHalfGrid = (column: string) => sql.raw(`${column} between 0 and 10 and mod(${column} * 2, 1) = 0`)

export const users = pgTable(
  'users',
  {
    id: uuid().primaryKey().defaultRandom(),
    email: text().notNull(),
    passwordHash: text().notNull(),
    displayName: text().notNull(),
    role: userRole().notNull().default('learner'),
    /** Access tokens issued before this instant are refused (logout-all, password change). */
    tokensValidAfter: timestamp({ withTimezone: true }).notNull().defaultNow(),
    createdAt: createdAt(),
    updatedAt: createdAt(),
  },
  (t) => [
    uniqueIndex('users_email_key').on(sql`lower(${t.email})`),
    // The admin search is starts_with(lower(email), prefix); under a non-C collation only a
    // text_pattern_ops btree can turn that prefix into an index range (users_email_key cannot).
    index('users_email_prefix_idx').using('btree', sql`lower(${t.email}) text_pattern_ops`),
  ],
)

/** One login = one session = one refresh-token family. */
export const sessions = pgTable(
  'sessions',
  {
    id: uuid().primaryKey().defaultRandom(),
    userId: uuid()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    userAgent: text(),
    ip: text(),
    createdAt: createdAt(),
    lastUsedAt: createdAt(),
    /** Absolute end of the family, whatever the activity. */
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    revokedAt: timestamp({ withTimezone: true }),
    revokedReason: text(),
  },
  (t) => [
    index('sessions_user_idx').on(t.userId),
    index('sessions_user_active_idx').on(t.userId, t.createdAt).where(sql`${t.revokedAt} is null`),
  ],
)

/** Refresh tokens, stored only as SHA-256 hashes; `parentId` links the rotation chain. */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: uuid().primaryKey().defaultRandom(),
    sessionId: uuid()
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    tokenHash: text().notNull(),
    parentId: uuid(),
    createdAt: createdAt(),
    /** Set when the token is rotated; a second use after this is reuse. */
    usedAt: timestamp({ withTimezone: true }),
    revokedAt: timestamp({ withTimezone: true }),
    /**
     * The child token issued when this one was rotated, AES-256-GCM encrypted under a key derived from
     * *this* (parent) token, which the server never stores. Only the holder of the parent can read it,
     * and only inside the grace window (a client's own concurrent double refresh); cleared afterwards.
     */
    childSealed: text(),
  },
  (t) => [
    uniqueIndex('refresh_tokens_hash_key').on(t.tokenHash),
    index('refresh_tokens_session_idx').on(t.sessionId),
    index('refresh_tokens_parent_idx').on(t.parentId),
  ],
)

export const tasks = pgTable(
  'tasks',
  {
    id: uuid().primaryKey().defaultRandom(),
    /** Stable human key used by the seed so re-seeding updates rather than duplicates. */
    slug: text().notNull(),
    skill: skill().notNull(),
    part: taskPart().notNull(),
    title: text().notNull(),
    prompt: text().notNull(),
    minWords: integer().notNull().default(0),
    timeLimitMinutes: integer().notNull(),
    /** Speaking: preparation before answering, and the speaking time the part allows (null for Writing). */
    preparationSeconds: integer().notNull().default(0),
    speakingSeconds: integer(),
    level: text().notNull().default('B1-C1'),
    gradingMode: gradingMode().notNull().default('auto'),
    createdAt: createdAt(),
    updatedAt: createdAt(),
  },
  (t) => [
    uniqueIndex('tasks_slug_key').on(t.slug),
    check('tasks_part_matches_skill', sql`(${t.skill} = 'writing') = (${t.part}::text like 'writing%')`),
    check('tasks_min_words_nonnegative', sql`${t.minWords} >= 0`),
  ],
)

export const submissions = pgTable(
  'submissions',
  {
    id: uuid().primaryKey().defaultRandom(),
    userId: uuid()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    taskId: uuid()
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    skill: skill().notNull(),
    status: submissionStatus().notNull().default('pending'),
    gradingMode: gradingMode().notNull(),
    reviewPriority: reviewPriority(),
    answerText: text(),
    /** Storage key of a spoken answer's recording (apps/api/src/storage); never a URL. */
    audioRef: text(),
    audioMediaType: text(),
    audioBytes: integer(),
    audioSeconds: real(),
    /** What the recogniser heard, written by the worker before it scores. */
    transcript: text(),
    wordCount: integer().notNull().default(0),
    attempts: integer().notNull().default(0),
    lastErrorCode: text(),
    idempotencyKey: text(),
    requestHash: text(),
    deadlineAt: timestamp({ withTimezone: true }),
    late: boolean().notNull().default(false),
    createdAt: createdAt(),
    updatedAt: createdAt(),
  },
  (t) => [
    index('submissions_user_created_idx').on(t.userId, t.createdAt.desc(), t.id.desc()),
    index('submissions_status_idx').on(t.status),
    uniqueIndex('submissions_idempotency_key').on(t.userId, t.idempotencyKey).where(sql`${t.idempotencyKey} is not null`),
    check('submissions_has_answer', sql`${t.answerText} is not null or ${t.audioRef} is not null`),
  ],
)

/**
 * Recordings whose submission is gone (deleted alone, or by the cascade of a user or task delete):
 * a trigger on `submissions` adds the key, the API deletes the object and then the row, so an
 * object outlives its submission only until the next purge, even if a process dies in between.
 */
export const audioDeletions = pgTable('audio_deletions', {
  key: text().primaryKey(),
  createdAt: createdAt(),
})

/** At most one grade per source: the AI draft and the human grade sit side by side. */
export const grades = pgTable(
  'grades',
  {
    id: uuid().primaryKey().defaultRandom(),
    submissionId: uuid()
      .notNull()
      .references(() => submissions.id, { onDelete: 'cascade' }),
    source: gradeSource().notNull(),
    overall: score('overall').notNull(),
    feedback: text().notNull().default(''),
    provider: text().notNull(),
    model: text().notNull(),
    rubricVersion: text().notNull(),
    confidence: real().notNull(),
    transcript: text(),
    gradedBy: uuid().references(() => users.id, { onDelete: 'set null' }),
    /** provider | fallback (offline scorer after the paid provider failed) | reused (copied from an identical answer). */
    origin: text({ enum: GRADE_ORIGINS }).notNull().default('provider'),
    /** SHA-256 of the graded answer text: finds an identical answer to the same task already graded (cost sense). */
    answerSha256: text(),
    /** The AI judged the answer off topic: a routing signal a reused copy must carry (hybrid reviews it). */
    offTopic: boolean().notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('grades_submission_source_key').on(t.submissionId, t.source),
    index('grades_answer_sha256_idx').on(t.answerSha256, t.rubricVersion).where(sql`${t.answerSha256} is not null`),
    check('grades_origin_known', sql`${t.origin} in ('provider', 'fallback', 'reused')`),
    check('grades_overall_grid', onHalfGrid('overall')),
    check('grades_confidence_range', sql`${t.confidence} between 0 and 1`),
  ],
)

export const gradeCriteria = pgTable(
  'grade_criteria',
  {
    gradeId: uuid()
      .notNull()
      .references(() => grades.id, { onDelete: 'cascade' }),
    criterion: criterion().notNull(),
    score: score('score').notNull(),
    feedback: text().notNull().default(''),
    /** Where the feedback points in the answer ({start, end, message, suggestion?}); [] for human grades. */
    annotations: jsonb().$type<Annotation[]>().notNull().default([]),
  },
  (t) => [primaryKey({ columns: [t.gradeId, t.criterion] }), check('grade_criteria_score_grid', onHalfGrid('score'))],
)

export const reviews = pgTable(
  'reviews',
  {
    submissionId: uuid()
      .primaryKey()
      .references(() => submissions.id, { onDelete: 'cascade' }),
    priority: reviewPriority().notNull(),
    reason: text().notNull(),
    reviewerId: uuid().references(() => users.id, { onDelete: 'set null' }),
    claimedAt: timestamp({ withTimezone: true }),
    completedAt: timestamp({ withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index('reviews_queue_idx').on(t.priority, t.createdAt).where(sql`${t.completedAt} is null`)],
)

/** Append-only history of every status change, written by a trigger whoever changes the row. */
export const submissionEvents = pgTable(
  'submission_events',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    submissionId: uuid()
      .notNull()
      .references(() => submissions.id, { onDelete: 'cascade' }),
    userId: uuid()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    fromStatus: submissionStatus(),
    toStatus: submissionStatus().notNull(),
    actor: text().notNull(),
    reason: text(),
    createdAt: createdAt(),
  },
  (t) => [index('submission_events_submission_idx').on(t.submissionId, t.id), index('submission_events_user_idx').on(t.userId, t.id)],
)

/**
 * Submissions whose AI grading failed for good after every retry (the worker writes one row per
 * failure), for admins to list and re-queue (`/v1/admin/dead-letters`). A re-queue stamps `requeuedAt`.
 */
export const deadLetters = pgTable(
  'dead_letters',
  {
    id: uuid().primaryKey().defaultRandom(),
    submissionId: uuid()
      .notNull()
      .references(() => submissions.id, { onDelete: 'cascade' }),
    provider: text().notNull(),
    /** The error code stored in submissions.last_error_code (e.g. provider_unavailable). */
    reason: text().notNull(),
    attempts: integer().notNull(),
    lastError: text().notNull().default(''),
    createdAt: createdAt(),
    requeuedAt: timestamp({ withTimezone: true }),
    requeuedBy: uuid().references(() => users.id, { onDelete: 'set null' }),
  },
  (t) => [
    index('dead_letters_open_idx').on(t.createdAt, t.id).where(sql`${t.requeuedAt} is null`),
    index('dead_letters_submission_idx').on(t.submissionId),
  ],
)

export const schema = {
  audioDeletions,
  users,
  sessions,
  refreshTokens,
  tasks,
  submissions,
  grades,
  gradeCriteria,
  reviews,
  submissionEvents,
  deadLetters,
}
