import { z } from 'zod'
import { DEFAULT_QUEUE_NAME, GRADING_POLICY } from '@vstep/contracts'

const Env = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.url({ message: 'must be a postgres:// URL' }),
  REDIS_URL: z.url({ message: 'must be a redis:// URL' }).default('redis://127.0.0.1:6379'),
  ARQ_QUEUE_NAME: z.string().min(1).default(DEFAULT_QUEUE_NAME),
  /** Issuer and audience pinned in every access token. */
  JWT_ISSUER: z.string().min(1).default('vstep-api'),
  JWT_AUDIENCE: z.string().min(1).default('vstep-clients'),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(900).default(900),
  /** PKCS#8 PEM of an Ed25519 key; required in production, generated and kept in .data/ otherwise. */
  JWT_PRIVATE_KEY: z.string().optional(),
  JWT_KEY_ID: z.string().min(1).optional(),
  /** Previous public key (SPKI PEM) still accepted during a key rotation. */
  JWT_PREVIOUS_PUBLIC_KEY: z.string().optional(),
  JWT_PREVIOUS_KEY_ID: z.string().min(1).optional(),
  DEV_KEY_DIR: z.string().default('.data/keys'),
  REFRESH_IDLE_DAYS: z.coerce.number().int().min(1).max(90).default(7),
  REFRESH_ABSOLUTE_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  /** Argon2id cost. Defaults are above OWASP's minimum (m=19 MiB, t=2); tests may lower them. */
  ARGON2_MEMORY_KIB: z.coerce.number().int().min(8).default(65_536),
  ARGON2_TIME_COST: z.coerce.number().int().min(1).default(2),
  SSE_HEARTBEAT_MS: z.coerce.number().int().min(100).max(60_000).default(15_000),
  /** Open SSE streams per user, across all API instances; one more is refused with 429 (docs/api.md). */
  SSE_MAX_STREAMS_PER_USER: z.coerce.number().int().min(1).max(1000).default(10),
  /** How often open SSE streams re-check their session and token expiry (one query per tick per instance). */
  SSE_SESSION_CHECK_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  /** How often pending submissions without an arq job are re-enqueued (0 disables). */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(0).default(30_000),
  // SIGTERM: how long in-flight requests may finish before the rest are cut (platform/shutdown.ts).
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(300_000).default(10_000),
  // SIGTERM: how long /readyz answers 503 `draining` while the listener stays open, before it closes,
  // so a load balancer polling /readyz stops routing here first (0: close at once; platform/shutdown.ts).
  SHUTDOWN_DRAIN_DELAY_MS: z.coerce.number().int().min(0).max(120_000).default(0),
  /** A `processing` row untouched this long, with no job in Redis, is queued again (above the worker's job timeout). */
  /** Grading deadlines (minutes from submission); past them the sweeper fails the submission (`timeout`). */
  GRADING_DEADLINE_WRITING_MINUTES: z.coerce.number().int().min(1).max(10_080).default(GRADING_POLICY.deadlineMinutes.writing),
  GRADING_DEADLINE_SPEAKING_MINUTES: z.coerce.number().int().min(1).max(10_080).default(GRADING_POLICY.deadlineMinutes.speaking),
  /** How often the deadline sweeper runs (0 disables it). */
  SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).default(30_000),
  RECONCILE_PROCESSING_AFTER_SECONDS: z.coerce.number().int().min(1).default(300),
  CORS_ORIGINS: z.string().default('http://localhost:5173,http://127.0.0.1:5173'),
  /** Grace window (seconds) in which a rotated refresh token's immediate child is handed out again. */
  REFRESH_REUSE_GRACE_SECONDS: z.coerce.number().int().min(0).max(60).default(10),
  /** Active sessions per user; opening one more ends the oldest. */
  MAX_SESSIONS_PER_USER: z.coerce.number().int().min(1).max(100).default(5),
  /**
   * Rate limits: requests per RATE_LIMIT_WINDOW_SECONDS, per client IP and per account.
   * Password checks (login, DELETE /v1/me, POST /v1/auth/password) share one policy, see docs/auth.md:
   * failures per (account, client address) pair; failures per account from all addresses (set high,
   * so a victim signing in from elsewhere is not locked out by one attacker); failures per address
   * across accounts; and every check per address (successes too), sized for a NAT.
   */
  RATE_LIMIT_LOGIN: z.coerce.number().int().min(1).default(5),
  RATE_LIMIT_LOGIN_ACCOUNT: z.coerce.number().int().min(1).default(50),
  RATE_LIMIT_LOGIN_IP_FAILURES: z.coerce.number().int().min(1).default(50),
  RATE_LIMIT_LOGIN_IP: z.coerce.number().int().min(1).default(300),
  RATE_LIMIT_REGISTER: z.coerce.number().int().min(1).default(5),
  RATE_LIMIT_REFRESH: z.coerce.number().int().min(1).default(10),
  /** New submissions per window, per learner (and per IP). */
  RATE_LIMIT_SUBMISSIONS: z.coerce.number().int().min(1).default(30),
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  /** Number of reverse proxies in front of the API whose X-Forwarded-For is trusted (0 = use the socket address). */
  TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
  /** Concurrent Argon2 computations (0 = 2 x CPU cores) and how many may wait before answering 503. */
  ARGON2_CONCURRENCY: z.coerce.number().int().min(0).max(256).default(0),
  ARGON2_QUEUE: z.coerce.number().int().min(0).max(10_000).default(64),
  /** Argon2 computations (running + waiting) one client address or one user may hold at once; more get 429. */
  ARGON2_PER_CLIENT: z.coerce.number().int().min(1).max(10_000).default(4),
  /** `Secure` on the refresh cookie: 'true'/'false'; unset = on in production, off otherwise. Never from request headers. */
  COOKIE_SECURE: z.enum(['true', 'false', '1', '0']).optional(),
  /**
   * Largest JSON request body (bytes). The default fits the longest essay (ANSWER_LIMITS.maxChars =
   * 20,000 characters) even fully \u-escaped (6 bytes a character) with room to spare; more gets 413.
   */
  JSON_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(16 * 1024 * 1024)
    .default(128 * 1024),
  /** Outer cap on any request body, enforced by Bun before the app sees it; at least JSON_BODY_LIMIT_BYTES and AUDIO_MAX_BYTES + 64 KiB. */
  MAX_REQUEST_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(1024 * 1024 * 1024)
    .default(21 * 1024 * 1024),
  /** Spoken answers (docs/api.md#audio-answers): largest upload, longest and shortest recording accepted. */
  AUDIO_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(1024 * 1024 * 1024)
    .default(20 * 1024 * 1024),
  AUDIO_MAX_SECONDS: z.coerce.number().int().min(1).max(3_600).default(360),
  AUDIO_MIN_SECONDS: z.coerce.number().min(0).max(60).default(1),
  /** Where recordings are kept: a local directory (default) or an S3-compatible bucket. */
  AUDIO_STORAGE: z.enum(['local', 's3']).default('local'),
  AUDIO_DIR: z.string().min(1).default('.data/audio'),
  /** Where an upload is streamed while it is checked (same file system as AUDIO_DIR saves a copy); default: the OS temp dir. */
  AUDIO_TMP_DIR: z.string().min(1).optional(),
  S3_ENDPOINT: z.url({ message: 'must be an http(s) URL' }).optional(),
  S3_BUCKET: z.string().min(1).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** The ffmpeg binary that checks uploads (decodable, duration, silence). */
  FFMPEG_PATH: z.string().min(1).default('ffmpeg'),
  /** An existing account with this email is promoted to admin at start-up when no admin exists yet. */
  BOOTSTRAP_ADMIN_EMAIL: z.email().optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** Bearer token for GET /metrics and the details of GET /readyz (docs/operations.md). Unset: /metrics is open outside production, off in production. */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Reads (GET) per RATE_LIMIT_WINDOW_SECONDS: anonymous callers per IP, signed-in callers per user by role (platform/read-limit.ts). */
  RATE_LIMIT_READ_ANONYMOUS: z.coerce.number().int().min(1).default(30),
  RATE_LIMIT_READ_LEARNER: z.coerce.number().int().min(1).default(100),
  RATE_LIMIT_READ_STAFF: z.coerce.number().int().min(1).default(500),
})
export type Config = z.infer<typeof Env>

/** Room for the multipart boundaries, part headers and the taskId field around an audio file. */
export const MULTIPART_OVERHEAD_BYTES = 64 * 1024

export class ConfigError extends Error {}

/** The browser origins allowed to call the API with credentials (comma-separated in CORS_ORIGINS). */
export const allowedOrigins = (config: Pick<Config, 'CORS_ORIGINS'>): Set<string> =>
  new Set(
    config.CORS_ORIGINS.split(',')
      .map((o) => o.trim())
      .filter(Boolean),
  )

/** Whether the refresh cookie carries `Secure`: COOKIE_SECURE when set, else only in production. */
export const cookieSecure = (config: Pick<Config, 'COOKIE_SECURE' | 'NODE_ENV'>): boolean =>
  config.COOKIE_SECURE === undefined ? config.NODE_ENV === 'production' : config.COOKIE_SECURE === 'true' || config.COOKIE_SECURE === '1'

/** Parses the environment once at start-up; the message names every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means unset (docker compose passes `${VAR:-}` as ""): optional ones take their
  // default, required ones are reported missing.
  const parsed = Env.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')))
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`)
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`)
  }
  const config = parsed.data
  if (config.NODE_ENV === 'production' && !config.JWT_PRIVATE_KEY) {
    throw new ConfigError('invalid configuration:\n  JWT_PRIVATE_KEY: required in production (PKCS#8 PEM of an Ed25519 key)')
  }
  if (config.MAX_REQUEST_BODY_BYTES < config.JSON_BODY_LIMIT_BYTES) {
    throw new ConfigError('invalid configuration:\n  MAX_REQUEST_BODY_BYTES: must be at least JSON_BODY_LIMIT_BYTES')
  }
  if (config.MAX_REQUEST_BODY_BYTES < config.AUDIO_MAX_BYTES + MULTIPART_OVERHEAD_BYTES) {
    throw new ConfigError(
      'invalid configuration:\n  MAX_REQUEST_BODY_BYTES: must be at least AUDIO_MAX_BYTES + 65536 (the multipart envelope)',
    )
  }
  if (config.AUDIO_STORAGE === 's3') {
    const missing = (['S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const).filter((name) => !config[name])
    if (missing.length)
      throw new ConfigError(`invalid configuration:\n${missing.map((name) => `  ${name}: required when AUDIO_STORAGE=s3`).join('\n')}`)
  }
  return config
}
