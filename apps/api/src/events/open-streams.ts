import { eq, inArray, sql } from 'drizzle-orm'
import { decodeJwt } from 'jose'
import { sessions, users } from '@vstep/db'
import type { CurrentUser } from '../auth/guard'
import type { AppDeps } from '../deps'
import { errorFields, log } from '../platform/logger'
import { ProblemError, unauthorized } from '../platform/problem'
import type { SubmissionEventHub } from './hub'
import { StreamSlots } from './stream-slots'

/** Why the server ended a stream; sent to the client as the data of a final `end` event. */
export type EndReason = 'session_ended' | 'token_expired' | 'shutdown'

/** What a stream was opened with: the token's session and lifetime (seconds since the epoch). */
export type StreamFacts = { userId: string; sessionId: string; issuedAt: number; expiresAt: number }

/** A session as the database sees it now; `tokensValidAfter` is the user's, in seconds. */
export type SessionState = { userId: string; live: boolean; tokensValidAfter: number }

/**
 * Pure: why this stream must end now, or null. The rules are the auth guard's, applied to a
 * request that is still running: the token's `exp` (without the guard's clock leeway, so a stream
 * never outlives its token), a session that is revoked, expired or gone (its user was deleted), and
 * a token issued before the user's `tokens_valid_after` (logout-all). `session` undefined means the
 * database did not answer this tick: only the expiry is judged.
 */
export function endReason(stream: StreamFacts, session: SessionState | null | undefined, nowSeconds: number): EndReason | null {
  if (nowSeconds >= stream.expiresAt) return 'token_expired'
  if (session === undefined) return null
  if (session === null || !session.live || session.userId !== stream.userId) return 'session_ended'
  if (session.tokensValidAfter > stream.issuedAt + 1) return 'session_ended'
  return null
}

/** What the route holds while its stream is open. */
export type StreamLease = {
  /** Aborted when the server ends the stream (session over, token expired). */
  readonly signal: AbortSignal
  /** Set once the server ended the stream. */
  readonly endedBecause: EndReason | null
  /** Frees the slot; call once, when the stream is over for whatever reason. */
  release(): void
}

type OpenStream = StreamFacts & { id: string; controller: AbortController; endedBecause: EndReason | null }

/** The access token's `iat` and `exp`. The guard has already verified it; this only reads it. */
function tokenTimes(authorization: string | undefined): { issuedAt: number; expiresAt: number } {
  const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1]
  try {
    const { iat, exp } = decodeJwt(token ?? '')
    if (typeof iat === 'number' && typeof exp === 'number') return { issuedAt: iat, expiresAt: exp }
  } catch {
    // falls through to the 401 below
  }
  throw unauthorized()
}

/**
 * The SSE streams open in this API process. It admits new ones under the per-user cap
 * (SSE_MAX_STREAMS_PER_USER, counted across instances in Redis via {@link StreamSlots}, and in this
 * process as the floor when Redis is down) and, every SSE_SESSION_CHECK_MS while any stream is open,
 * re-checks them all with ONE database query: streams whose session ended (logout, logout-all,
 * revocation, refresh-token reuse, password change, account deletion) or whose access token expired
 * are ended. Revocations made by any instance are seen because the database is the truth.
 */
export class OpenStreams {
  private readonly streams = new Map<string, OpenStream>()
  private readonly byUser = new Map<string, Set<string>>()
  private timer: ReturnType<typeof setInterval> | null = null
  private checking = false
  private lastWarning = 0

  constructor(
    private readonly deps: AppDeps,
    private readonly slots: StreamSlots,
  ) {}

  get size(): number {
    return this.streams.size
  }

  /** Registers a stream for `user`, or throws 401 (token already past `exp`) or 429 (cap reached). */
  async admit(user: CurrentUser, authorization: string | undefined): Promise<StreamLease> {
    const times = tokenTimes(authorization)
    // Within the verifier's clock leeway an expired token still passes the guard; a stream opened
    // with it would end at once, so the client is told to refresh instead.
    if (Date.now() / 1000 >= times.expiresAt) throw unauthorized('the access token has expired; refresh it and reconnect')
    const cap = this.deps.config.SSE_MAX_STREAMS_PER_USER
    if ((this.byUser.get(user.id)?.size ?? 0) >= cap) throw tooManyStreams(cap)
    // Reserve locally before asking Redis, so concurrent opens in this process count each other.
    const stream: OpenStream = {
      id: crypto.randomUUID(),
      userId: user.id,
      sessionId: user.sessionId,
      ...times,
      controller: new AbortController(),
      endedBecause: null,
    }
    this.add(stream)
    const claim = await this.slots.claim(user.id, stream.id)
    if (claim === 'full') {
      this.remove(stream)
      throw tooManyStreams(cap)
    }
    let released = false
    return {
      signal: stream.controller.signal,
      get endedBecause() {
        return stream.endedBecause
      },
      release: () => {
        if (released) return
        released = true
        this.remove(stream)
        void this.slots.release(stream.userId, stream.id)
      },
    }
  }

  private add(stream: OpenStream): void {
    this.streams.set(stream.id, stream)
    let ids = this.byUser.get(stream.userId)
    if (!ids) this.byUser.set(stream.userId, (ids = new Set()))
    ids.add(stream.id)
    if (!this.timer) {
      this.timer = setInterval(() => void this.check(), this.deps.config.SSE_SESSION_CHECK_MS)
      this.timer.unref?.()
    }
  }

  private remove(stream: OpenStream): void {
    this.streams.delete(stream.id)
    const ids = this.byUser.get(stream.userId)
    ids?.delete(stream.id)
    if (ids?.size === 0) this.byUser.delete(stream.userId)
    if (this.streams.size === 0 && this.timer) {
      clearInterval(this.timer)
      this.timer = null
    }
  }

  /**
   * Ends every open stream with `reason` (the API is shutting down: each client gets a last `end`
   * event and reconnects, with Last-Event-ID, to an instance that is still up). Returns how many.
   */
  endAll(reason: EndReason): number {
    let ended = 0
    for (const stream of this.streams.values()) {
      if (stream.endedBecause) continue
      this.end(stream, reason)
      ended++
    }
    return ended
  }

  private end(stream: OpenStream, reason: EndReason): void {
    if (stream.endedBecause) return
    stream.endedBecause = reason
    stream.controller.abort()
  }

  /** One tick: token expiry (no I/O), one query for every open stream's session, lease renewal. */
  async check(): Promise<void> {
    if (this.checking) return // a slow tick is not stacked with the next one
    this.checking = true
    try {
      const now = Date.now() / 1000
      const running = [...this.streams.values()].filter((s) => !s.endedBecause)
      let states: Map<string, SessionState> | null = null
      try {
        states = await this.sessionStates([...new Set(running.map((s) => s.sessionId))])
      } catch (error) {
        // Streams stay open meanwhile (expiry still applies); one warning per 30 s, not per tick.
        if (Date.now() - this.lastWarning > 30_000) {
          this.lastWarning = Date.now()
          log.warn({ component: 'sse', ...errorFields(error) }, 'could not re-check sessions of open streams')
        }
      }
      for (const stream of running) {
        const reason = endReason(stream, states ? (states.get(stream.sessionId) ?? null) : undefined, now)
        if (reason) this.end(stream, reason)
      }
      const byUser = new Map<string, string[]>()
      for (const [userId, ids] of this.byUser) byUser.set(userId, [...ids])
      await this.slots.renew(byUser)
    } finally {
      this.checking = false
    }
  }

  private async sessionStates(sessionIds: string[]): Promise<Map<string, SessionState>> {
    const states = new Map<string, SessionState>()
    for (let start = 0; start < sessionIds.length; start += 1000) {
      const rows = await this.deps.db
        .select({
          id: sessions.id,
          userId: sessions.userId,
          live: sql<boolean>`${sessions.revokedAt} is null and ${sessions.expiresAt} > now()`,
          tokensValidAfter: sql<number>`extract(epoch from ${users.tokensValidAfter})::float8`,
        })
        .from(sessions)
        .innerJoin(users, eq(users.id, sessions.userId))
        .where(inArray(sessions.id, sessionIds.slice(start, start + 1000)))
      for (const row of rows) states.set(row.id, { userId: row.userId, live: row.live, tokensValidAfter: Number(row.tokensValidAfter) })
    }
    return states
  }
}

const tooManyStreams = (cap: number) =>
  new ProblemError(429, 'Too Many Requests', `at most ${cap} event streams may be open per user; close one first`, {
    type: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
    headers: { 'retry-after': '30' },
  })

const registries = new WeakMap<SubmissionEventHub, OpenStreams>()

/** The registry of this API process (one per event hub, as each instance has its own hub). */
export function openStreams(deps: AppDeps): OpenStreams {
  let registry = registries.get(deps.events)
  if (!registry) {
    const leaseMs = Math.max(30_000, 3 * deps.config.SSE_SESSION_CHECK_MS)
    registry = new OpenStreams(deps, new StreamSlots(deps.redis, deps.config.SSE_MAX_STREAMS_PER_USER, leaseMs))
    registries.set(deps.events, registry)
  }
  return registry
}
