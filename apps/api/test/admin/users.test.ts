/**
 * GET /v1/admin/users: the admin's user list (email prefix, role filter, cursor pages), against a
 * private PostgreSQL database and redis-server. Every user a test looks for carries a tag of its own
 * in the email, so the assertions are exact whatever else the database holds.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { users } from '@vstep/db'
import { userListQuery } from '../../src/admin/users'
import { createTestContext, type TestContext } from '../support/context'

let ctx: TestContext
let adminToken: string

beforeAll(async () => {
  ctx = await createTestContext({ RATE_LIMIT_LOGIN: '1000', RATE_LIMIT_REGISTER: '1000' })
  const admin = await ctx.signUp()
  await ctx.deps.db.update(users).set({ role: 'admin' }).where(eq(users.id, admin.userId))
  adminToken = admin.token
})
afterAll(() => ctx.close())

type UserBody = { id: string; email: string; displayName: string; role: string; createdAt: string }
type Page = { items: UserBody[]; nextCursor: string | null }

const tagged = () => `t${crypto.randomUUID().slice(0, 8)}`

async function list(query: Record<string, string>, token = adminToken) {
  return ctx.call('GET', `/v1/admin/users?${new URLSearchParams(query)}`, { token })
}
async function page(query: Record<string, string>): Promise<Page> {
  const res = await list(query)
  expect(res.status).toBe(200)
  return (await res.json()) as Page
}

describe('GET /v1/admin/users', () => {
  test('admins only: 401 without a token, 403 for learners and instructors', async () => {
    expect((await ctx.call('GET', '/v1/admin/users')).status).toBe(401)
    const learner = await ctx.signUp()
    const learnerRes = await list({}, learner.token)
    expect(learnerRes.status).toBe(403)
    expect(learnerRes.headers.get('content-type')).toContain('application/problem+json')
    const instructor = await ctx.signUp()
    await ctx.deps.db.update(users).set({ role: 'instructor' }).where(eq(users.id, instructor.userId))
    expect((await list({}, instructor.token)).status).toBe(403)
  })

  test('finds users by the start of their email, in any case, ordered by email; the User shape and nothing more', async () => {
    const tag = tagged()
    for (const name of ['carol', 'alice', 'bob']) await ctx.signUp({ email: `${tag}-${name}@example.test` })
    await ctx.signUp({ email: `other-${tag}@example.test` }) // contains the tag, but does not start with it
    const found = await page({ email: `  ${tag.toUpperCase()}-` })
    expect(found.items.map((u) => u.email)).toEqual(['alice', 'bob', 'carol'].map((n) => `${tag}-${n}@example.test`))
    expect(found.nextCursor).toBeNull()
    for (const u of found.items) expect(Object.keys(u).sort()).toEqual(['createdAt', 'displayName', 'email', 'id', 'role'])
    expect((await page({ email: `${tag}-alice@example.test` })).items).toHaveLength(1)
    expect((await page({ email: `${tag}-zz` })).items).toEqual([])
  })

  test('% and _ in the prefix are characters, not wildcards', async () => {
    const tag = tagged()
    await ctx.signUp({ email: `${tag}_x@example.test` })
    await ctx.signUp({ email: `${tag}ax@example.test` })
    expect((await page({ email: `${tag}_` })).items.map((u) => u.email)).toEqual([`${tag}_x@example.test`])
    expect((await page({ email: `${tag}%` })).items).toEqual([])
  })

  test('the role filter narrows the search', async () => {
    const tag = tagged()
    const teacher = await ctx.signUp({ email: `${tag}-teacher@example.test` })
    await ctx.signUp({ email: `${tag}-learner@example.test` })
    await ctx.deps.db.update(users).set({ role: 'instructor' }).where(eq(users.id, teacher.userId))
    const instructors = await page({ email: tag, role: 'instructor' })
    expect(instructors.items.map((u) => [u.id, u.role])).toEqual([[teacher.userId, 'instructor']])
    expect((await page({ email: tag, role: 'learner' })).items.map((u) => u.email)).toEqual([`${tag}-learner@example.test`])
    expect((await page({ email: tag, role: 'admin' })).items).toEqual([])
  })

  test('cursor pages: every match exactly once, in order, and the last page has no cursor', async () => {
    const tag = tagged()
    const emails = ['e', 'a', 'd', 'b', 'c'].map((n) => `${tag}-${n}@example.test`)
    for (const email of emails) await ctx.signUp({ email })
    const seen: string[] = []
    const sizes: number[] = []
    let cursor: string | null = null
    do {
      const p: Page = await page({ email: tag, limit: '2', ...(cursor ? { cursor } : {}) })
      seen.push(...p.items.map((u) => u.email))
      sizes.push(p.items.length)
      cursor = p.nextCursor
    } while (cursor)
    expect(sizes).toEqual([2, 2, 1])
    expect(seen).toEqual([...emails].sort())
  })

  test('a forged cursor, an unknown role or a bad limit is a 422 naming the field', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ cursor: 'not-a-cursor' }, 'query.cursor'],
      [{ cursor: Buffer.from(JSON.stringify([1, 2])).toString('base64url') }, 'query.cursor'],
      [{ role: 'superuser' }, 'role'],
      [{ limit: '0' }, 'limit'],
      [{ limit: '101' }, 'limit'],
      [{ email: 'x'.repeat(255) }, 'email'],
    ]
    for (const [query, field] of cases) {
      const res = await list(query)
      expect(res.status).toBe(422)
      expect(res.headers.get('content-type')).toContain('application/problem+json')
      const problem = (await res.json()) as { errors?: { field: string }[] }
      expect(problem.errors?.some((e) => e.field.endsWith(field))).toBe(true)
    }
  })

  test('the email search is an index range on users_email_prefix_idx, not a scan of every user', async () => {
    const tag = tagged()
    // Enough spread-out users that a sequential scan costs more than the index, then fresh statistics.
    await ctx.deps.sql`
      insert into users (email, password_hash, display_name)
      select md5(random()::text || g) || '@bulk.example.test', 'not-a-hash', 'Bulk'
      from generate_series(1, 2000) g`
    for (const name of ['a', 'b']) await ctx.signUp({ email: `${tag}-${name}@example.test` })
    await ctx.deps.sql`analyze users`

    const query = userListQuery(ctx.deps.db, { email: tag, limit: 20 }).toSQL()
    const [explained] = await ctx.deps.sql.unsafe<[{ 'QUERY PLAN': [{ Plan: PlanNode }] }]>(
      `explain (format json) ${query.sql}`,
      query.params as never[],
    )
    const nodes = planNodes(explained['QUERY PLAN'][0].Plan)
    const indexed = nodes.filter((n) => n['Index Name'] === 'users_email_prefix_idx')
    expect(indexed.map((n) => n['Node Type'])).toEqual([expect.stringMatching(/^(Index Scan|Index Only Scan|Bitmap Index Scan)$/)])
    expect(nodes.some((n) => n['Node Type'] === 'Seq Scan')).toBe(false)
    // And the same query still finds exactly the tagged users.
    expect((await page({ email: tag })).items.map((u) => u.email)).toEqual([`${tag}-a@example.test`, `${tag}-b@example.test`])
  })
})

type PlanNode = { 'Node Type': string; 'Index Name'?: string; Plans?: PlanNode[] }
const planNodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(planNodes)]
