/**
 * Issue 11, findings 2 and 6: the routes that check a password (login, DELETE /v1/me, POST
 * /v1/auth/password) against a guesser, a flood from one token, and a victim's lock-out. The policy
 * is described in docs/auth.md ("Password attempts"). One trusted proxy, so each request picks its
 * client address with X-Forwarded-For; Argon2 at OWASP's minimum cost so hashes take real time and
 * concurrent requests really overlap in the hashing gate.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { hashGate } from '../../src/auth/passwords'
import { createTestContext, type TestContext } from '../support/context'

const REALISTIC_ARGON2 = { ARGON2_MEMORY_KIB: '19456', ARGON2_TIME_COST: '2', TRUST_PROXY: '1' }
const PASSWORD = 'correct horse battery staple'

let ipCounter = 0
const freshIp = () => `203.0.113.${++ipCounter}`
const from = (ip: string) => ({ 'x-forwarded-for': ip })

const helpers = (ctx: () => TestContext) => ({
  account: async () => {
    const email = `pa-${crypto.randomUUID()}@example.test`
    const res = await ctx().call('POST', '/v1/auth/register', {
      body: { email, password: PASSWORD, displayName: 'P' },
      headers: from(freshIp()),
    })
    expect(res.status).toBe(201)
    return email
  },
  login: (email: string, password: string, ip: string) =>
    ctx().call('POST', '/v1/auth/login', { body: { email, password }, headers: from(ip) }),
  deleteMe: (token: string, password: string, ip: string) =>
    ctx().call('DELETE', '/v1/me', { token, body: { password }, headers: from(ip) }),
})

const countBy = (statuses: number[]) => {
  const counts: Record<number, number> = {}
  for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1
  return counts
}

describe('default limits', () => {
  let ctx: TestContext
  const h = helpers(() => ctx)
  beforeAll(async () => {
    ctx = await createTestContext(REALISTIC_ARGON2)
  })
  afterAll(() => ctx.close())

  const tokenOf = async (email: string, ip: string) => {
    const res = await h.login(email, PASSWORD, ip)
    expect(res.status).toBe(200)
    return ((await res.json()) as { accessToken: string }).accessToken
  }

  test('finding 2: 150 concurrent wrong-password DELETE /v1/me with one token: at most 5 are checked, the rest get 429, and another user signs in meanwhile', async () => {
    const attackerIp = freshIp()
    const target = await h.account()
    const token = await tokenOf(target, attackerIp)
    const bystander = await h.account()

    const flood = Promise.all(Array.from({ length: 150 }, () => h.deleteMe(token, 'not the password', attackerIp)))
    const bystanderLogin = h.login(bystander, PASSWORD, freshIp())
    const answers = await flood
    const statuses = countBy(answers.map((r) => r.status))

    expect((await bystanderLogin).status).toBe(200)
    expect(statuses[503]).toBeUndefined()
    expect(Object.keys(statuses).sort()).toEqual(['403', '429'])
    const checked = statuses[403]!
    expect(checked).toBeLessThanOrEqual(5)
    expect(statuses[429]).toBeGreaterThanOrEqual(145)
    const refused = answers.find((r) => r.status === 429)!
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(refused.headers.get('content-type')).toBe('application/problem+json')

    // Five guesses in all from that address: a check refused by the gate's per-client share (also a
    // 429) was no guess and gave its unit back, so whatever is left of the five can still be used …
    for (let i = checked; i < 5; i++) expect((await h.deleteMe(token, 'not the password', attackerIp)).status).toBe(403)
    // … and then one budget for one secret: logging in to that account from there is refused too …
    expect((await h.login(target, PASSWORD, attackerIp)).status).toBe(429)
    // … while the owner, from their own address, still can, and can delete the account.
    expect((await h.deleteMe(token, PASSWORD, freshIp())).status).toBe(204)
  }, 30_000)

  test('finding 2: wrong current passwords on POST /v1/auth/password draw from the same budget', async () => {
    const ip = freshIp()
    const email = await h.account()
    const token = await tokenOf(email, ip)
    const change = (current: string) =>
      ctx.call('POST', '/v1/auth/password', {
        token,
        body: { currentPassword: current, newPassword: 'a brand new passphrase' },
        headers: from(ip),
      })
    for (let i = 0; i < 5; i++) expect((await change('not the password')).status).toBe(403)
    const sixth = await change(PASSWORD)
    expect(sixth.status).toBe(429)
    expect(sixth.headers.get('ratelimit')).toStartWith('"password-pair";r=0;')
    expect((await h.deleteMe(token, PASSWORD, ip)).status).toBe(429)
  })

  test('finding 6: an attacker failing for the victim’s email does not lock the victim out from another address', async () => {
    const victim = await h.account()
    const attackerIp = freshIp()
    const attempts = []
    for (let i = 0; i < 8; i++) attempts.push((await h.login(victim, `guess number ${i}`, attackerIp)).status)
    expect(attempts).toEqual([401, 401, 401, 401, 401, 429, 429, 429])
    // The victim, at home, is not affected …
    const victimIp = freshIp()
    expect((await h.login(victim, PASSWORD, victimIp)).status).toBe(200)
    // … and can even mistype a few times there.
    expect((await h.login(victim, 'fat fingers', victimIp)).status).toBe(401)
    expect((await h.login(victim, PASSWORD, victimIp)).status).toBe(200)
    // The attacker is still held off.
    expect((await h.login(victim, PASSWORD, attackerIp)).status).toBe(429)
  })

  test('finding 6: forty users behind one NAT address each mistype once and still sign in', async () => {
    const nat = freshIp()
    const emails = await Promise.all(Array.from({ length: 40 }, () => h.account()))
    for (const email of emails) {
      expect((await h.login(email, 'mistyped password', nat)).status).toBe(401)
      expect((await h.login(email, PASSWORD, nat)).status).toBe(200)
    }
  }, 30_000)

  test('finding 6: the per-account ceiling across addresses (50 failures) still stops a guesser spread over ten addresses', async () => {
    const victim = await h.account()
    // Four guesses per address (under the pair limit), each from a new address, until refused. The
    // budget refills by one per 1.2 s, so a slow run may squeeze in one or two more than 50.
    let failures = 0
    let refusal: Response | undefined
    for (let i = 0; i < 70 && !refusal; i++) {
      const res = await h.login(victim, `guess ${i}`, i % 4 === 0 ? freshIp() : `203.0.113.${ipCounter}`)
      if (res.status === 401) failures++
      else refusal = res
    }
    expect(failures).toBeGreaterThanOrEqual(50)
    expect(failures).toBeLessThanOrEqual(55)
    expect(refusal!.status).toBe(429)
    expect(refusal!.headers.get('ratelimit')).toContain('"password-account";r=0;')
  }, 30_000)

  test('finding 6: one address guessing across accounts (credential stuffing) is stopped after 50 failures', async () => {
    const ip = freshIp()
    let failures = 0
    let refusal: Response | undefined
    for (let i = 0; i < 70 && !refusal; i++) {
      const res = await h.login(`nobody-${i}-${crypto.randomUUID()}@example.test`, 'leaked password', ip)
      if (res.status === 401) failures++
      else refusal = res
    }
    expect(failures).toBeGreaterThanOrEqual(50)
    expect(failures).toBeLessThanOrEqual(55)
    expect(refusal!.status).toBe(429)
    expect(refusal!.headers.get('ratelimit')).toContain('"password-ip-failures";r=0;')
  }, 30_000)
})

describe('the hashing gate is shared fairly (limits raised so only the gate decides)', () => {
  let ctx: TestContext
  const h = helpers(() => ctx)
  beforeAll(async () => {
    ctx = await createTestContext({
      ...REALISTIC_ARGON2,
      // Six slots and a short queue: without the per-client share, one flood fills both (503s).
      ARGON2_CONCURRENCY: '6',
      ARGON2_QUEUE: '8',
      ARGON2_PER_CLIENT: '4',
      RATE_LIMIT_LOGIN: '100000',
      RATE_LIMIT_LOGIN_ACCOUNT: '100000',
      RATE_LIMIT_LOGIN_IP_FAILURES: '100000',
      RATE_LIMIT_LOGIN_IP: '100000',
    })
  })
  afterAll(() => ctx.close())

  test('a user holding their whole share gets 429 at once; another user signs in meanwhile', async () => {
    const greedy = await ctx.signUp()
    const bystander = await h.account()
    const gate = hashGate(ctx.deps.config)
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    const holders = Array.from({ length: gate.ownerLimit }, () => gate.run(() => held, [`user:${greedy.userId}`]))
    try {
      expect(gate.heldBy(`user:${greedy.userId}`)).toBe(4)
      const refused = await h.deleteMe(greedy.token, 'not the password', freshIp())
      expect(refused.status).toBe(429)
      expect(refused.headers.get('retry-after')).toBe('1')
      expect(((await refused.json()) as { detail: string }).detail).toContain('concurrent')
      expect((await h.login(bystander, PASSWORD, freshIp())).status).toBe(200)
    } finally {
      release()
      await Promise.all(holders)
    }
    // The refused check was no guess: it did not use up the user's failure budget.
    expect((await h.deleteMe(greedy.token, greedy.password, freshIp())).status).toBe(204)
  })

  test('150 concurrent wrong-password DELETE /v1/me with one token never fill the gate: no 503, and another user signs in', async () => {
    const flooder = await ctx.signUp()
    const bystander = await h.account()
    const ip = freshIp()
    const flood = Promise.all(Array.from({ length: 150 }, () => h.deleteMe(flooder.token, 'not the password', ip)))
    const bystanderLogin = h.login(bystander, PASSWORD, freshIp())
    const statuses = countBy((await flood).map((r) => r.status))
    expect((await bystanderLogin).status).toBe(200)
    expect(statuses[503]).toBeUndefined()
    expect((statuses[403] ?? 0) + (statuses[429] ?? 0)).toBe(150)
    expect(hashGate(ctx.deps.config).inFlight).toBe(0)
  }, 30_000)
})
