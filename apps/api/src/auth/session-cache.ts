import type { UserRole } from '@vstep/contracts'
import type { AccessClaims } from './tokens'

/** What the guard needs to know about a session, as PostgreSQL said when it was loaded. Times in seconds. */
export type SessionFacts = {
  userId: string
  role: UserRole
  email: string
  /** Profile fields no route changes, so `GET /v1/me` needs no query (a change would publish `user`). */
  displayName: string
  createdAt: string
  /** The session's absolute expiry. */
  expiresAt: number
  /** The user's `tokens_valid_after` (logout-all). */
  tokensValidAfter: number
}

/**
 * A change published on {@link AUTH_CHANNEL} by the instance that made it (after its commit):
 * - `sessions`: these sessions ended (logout, reuse, session cap, password change, deletion);
 * - `user`: the user's facts changed (role change): cached sessions of the user are dropped;
 *   with `cutoff` (seconds), every token of the user issued before it is refused (logout-all, deletion).
 */
export type AuthChange = { kind: 'sessions'; ids: string[] } | { kind: 'user'; id: string; cutoff?: number }
export const AUTH_CHANNEL = 'auth:changes'

/** A token issued at `iat` (whole seconds) is valid after `cutoff` when `cutoff <= iat + 1`: the guard's SQL rule. */
export const issuedBefore = (iat: number, cutoff: number): boolean => cutoff > iat + 1

/** Pure: the verdict of the facts on one token. */
export function judge(facts: SessionFacts, claims: AccessClaims, nowSeconds: number): boolean {
  return facts.userId === claims.sub && facts.expiresAt > nowSeconds && !issuedBefore(claims.iat, facts.tokensValidAfter)
}

type Entry = SessionFacts & { loadedAt: number }

/**
 * The per-process memory of sessions, so an authenticated request needs neither PostgreSQL nor Redis:
 * facts of live sessions (bounded LRU, each entry re-read from the database after `maxAgeMs`), and
 * sessions and users known revoked (kept one access-token lifetime, after which no token they could
 * refuse still verifies). Fed by {@link AuthChange} messages; no I/O here.
 *
 * A load that started before a change and finishes after it must not store what it read: `epoch`
 * counts changes, and {@link store} refuses facts read under an older epoch.
 */
export class SessionCache {
  private readonly facts = new Map<string, Entry>()
  private readonly sessionsOf = new Map<string, Set<string>>()
  private readonly revokedSessions = new Map<string, number>()
  private readonly userCutoffs = new Map<string, { cutoff: number; until: number }>()
  epoch = 0

  constructor(
    private readonly revokedForMs: number,
    private readonly maxEntries = 50_000,
    private readonly maxAgeMs = 60_000,
  ) {}

  get size(): number {
    return this.facts.size
  }

  /** Whether facts of this session are held (tests and metrics). */
  has(sessionId: string): boolean {
    return this.facts.has(sessionId)
  }

  /** 'refused', the caller's facts, or undefined (ask the database). */
  lookup(claims: AccessClaims, nowMs: number): 'refused' | SessionFacts | undefined {
    const revokedUntil = this.revokedSessions.get(claims.sid)
    if (revokedUntil !== undefined) {
      if (revokedUntil > nowMs) return 'refused'
      this.revokedSessions.delete(claims.sid)
    }
    const user = this.userCutoffs.get(claims.sub)
    if (user) {
      if (user.until <= nowMs) this.userCutoffs.delete(claims.sub)
      else if (issuedBefore(claims.iat, user.cutoff)) return 'refused'
    }
    const entry = this.facts.get(claims.sid)
    if (!entry) return undefined
    if (nowMs - entry.loadedAt > this.maxAgeMs) {
      this.drop(claims.sid)
      return undefined
    }
    this.facts.delete(claims.sid)
    this.facts.set(claims.sid, entry) // most recently used goes last
    return judge(entry, claims, nowMs / 1000) ? entry : 'refused'
  }

  /** Keeps facts read from the database, unless a change arrived since `epoch` was read. */
  store(epoch: number, sessionId: string, facts: SessionFacts, nowMs: number): void {
    if (epoch !== this.epoch) return
    this.drop(sessionId)
    if (this.facts.size >= this.maxEntries) this.drop(this.facts.keys().next().value!)
    this.facts.set(sessionId, { ...facts, loadedAt: nowMs })
    let ids = this.sessionsOf.get(facts.userId)
    if (!ids) this.sessionsOf.set(facts.userId, (ids = new Set()))
    ids.add(sessionId)
  }

  /** Remembers sessions found revoked (by a marker, the database or a message). */
  revoke(sessionIds: readonly string[], nowMs: number): void {
    this.epoch++
    for (const id of sessionIds) {
      this.drop(id)
      this.revokedSessions.set(id, nowMs + this.revokedForMs)
    }
    this.bound(this.revokedSessions, nowMs)
  }

  apply(change: AuthChange, nowMs: number): void {
    if (change.kind === 'sessions') {
      this.revoke(change.ids, nowMs)
      return
    }
    this.epoch++
    for (const id of [...(this.sessionsOf.get(change.id) ?? [])]) this.drop(id)
    if (change.cutoff !== undefined) {
      const previous = this.userCutoffs.get(change.id)?.cutoff ?? 0
      this.userCutoffs.set(change.id, { cutoff: Math.max(previous, change.cutoff), until: nowMs + this.revokedForMs })
      if (this.userCutoffs.size > this.maxEntries) this.userCutoffs.delete(this.userCutoffs.keys().next().value!)
    }
  }

  /** Forgets everything (the invalidation channel was down: messages may have been missed). */
  clear(): void {
    this.epoch++
    this.facts.clear()
    this.sessionsOf.clear()
  }

  private drop(sessionId: string): void {
    const entry = this.facts.get(sessionId)
    if (!entry) return
    this.facts.delete(sessionId)
    const ids = this.sessionsOf.get(entry.userId)
    ids?.delete(sessionId)
    if (ids?.size === 0) this.sessionsOf.delete(entry.userId)
  }

  /** Expired marks go first; beyond `maxEntries` the oldest go (the database still refuses them). */
  private bound(marks: Map<string, number>, nowMs: number): void {
    if (marks.size <= this.maxEntries) return
    for (const [id, until] of marks) if (until <= nowMs) marks.delete(id)
    while (marks.size > this.maxEntries) marks.delete(marks.keys().next().value!)
  }
}

/** Parses a message of {@link AUTH_CHANNEL}; null for anything else. */
export function parseAuthChange(message: string): AuthChange | null {
  try {
    const raw = JSON.parse(message) as { kind?: unknown; ids?: unknown; id?: unknown; cutoff?: unknown }
    if (raw.kind === 'sessions' && Array.isArray(raw.ids) && raw.ids.every((id) => typeof id === 'string'))
      return { kind: 'sessions', ids: raw.ids as string[] }
    if (raw.kind === 'user' && typeof raw.id === 'string') {
      return typeof raw.cutoff === 'number' ? { kind: 'user', id: raw.id, cutoff: raw.cutoff } : { kind: 'user', id: raw.id }
    }
  } catch {
    // not ours
  }
  return null
}
