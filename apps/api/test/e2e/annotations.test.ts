/**
 * Feedback anchored in the text, end to end: the real worker process grades an essay with planted
 * errors, and GET /v1/submissions/:id returns each criterion's `annotations` as offsets a client can
 * underline with `answerText.slice(start, end)`. An emoji before the errors makes JavaScript's UTF-16
 * offsets differ from Python's code-point offsets, so a missed conversion shows up as a wrong slice.
 */
import { expect, test } from 'bun:test'
import { treaty } from '@elysiajs/eden'
import type { App } from '../../src/app'
import { waitFor } from '../support/processes'
import { useStack } from '../support/stack'

const stack = useStack()

/** Written for this test: a short answer with planted errors ("she have", "can to", "has went", a comma splice)
 * beside correct linkers ("However, there are ...") that must not be taken for splices. */
const ESSAY = `Working from home 🏠 is now normal for many workers in my city. My sister works for a bank and she have a lot of information about this. She can to stay at home three days a week, and she says it saves her a lot of time.

There are some advantages. Firstly, employees do not spend money on buses and petrol. Secondly, they can concentrate better because the house is quiet. For example, my sister has went home early every Friday and finishes her reports there.

However, there are also disadvantages. Teamwork can become weaker. Colleagues do not meet each other, it is hard to share ideas. Some employers worry that productivity falls when nobody checks the workers.

In my opinion, working from home is a good idea if companies organise it carefully. Teams should meet in the office once a week, and managers should trust their staff.`

/** [quoted words, the text around them, the suggestion]: where each planted error is. */
const PLANTED: [string, string, string][] = [
  ['have', 'she have a lot', 'has'],
  ['can to', 'She can to stay', 'can'],
  ['went', 'has went home', 'gone'],
]

test('GET /v1/submissions/:id returns annotations whose offsets slice the quoted words out of answerText', async () => {
  const api = treaty<App>(stack().apiUrl, { parseDate: false })
  const email = `annotations-${crypto.randomUUID()}@example.test`
  expect((await api.v1.auth.register.post({ email, password: 'a long enough password', displayName: 'Annotations' })).status).toBe(201)
  const login = await api.v1.auth.login.post({ email, password: 'a long enough password' })
  if (!login.data) throw new Error(`login failed: ${JSON.stringify(login.error)}`)
  const auth = { headers: { authorization: `Bearer ${login.data.accessToken}` } }

  const catalogue = await api.v1.tasks.get()
  const task = catalogue.data?.items.find((t) => t.part === 'writing_task_2')
  if (!task) throw new Error('no writing task 2 in the seeded catalogue')
  const created = await api.v1.submissions.post({ taskId: task.id, answerText: ESSAY }, auth)
  if (!created.data) throw new Error(`submit failed: ${JSON.stringify(created.error)}`)
  const id = created.data.id

  const submission = await waitFor(
    `submission ${id} to be graded`,
    async () => {
      const detail = await api.v1.submissions({ id }).get(auth)
      return detail.data && detail.data.grades.length > 0 ? detail.data : undefined
    },
    30_000,
    stack().services,
  )
  const answerText = submission.answerText ?? ''
  expect(answerText).toBe(ESSAY)
  const [grade] = submission.grades
  expect(grade?.source).toBe('ai')
  const criteria = grade?.criteria ?? []
  expect(criteria.map((c) => c.criterion).sort()).toEqual(['grammar', 'organisation', 'task_fulfilment', 'vocabulary'])

  for (const criterion of criteria) {
    expect({ criterion: criterion.criterion, annotated: criterion.annotations.length > 0 }).toEqual({
      criterion: criterion.criterion,
      annotated: true,
    })
    for (const a of criterion.annotations) {
      expect(0 <= a.start && a.start < a.end && a.end <= answerText.length).toBe(true)
      const quoted = answerText.slice(a.start, a.end)
      expect(quoted.trim()).not.toBe('')
      // Every message about the learner's words quotes them (only the "answer ends here" note does not).
      if (!a.message.startsWith('The answer ends here')) expect(a.message).toContain(`'${quoted}'`)
    }
  }

  const grammar = criteria.find((c) => c.criterion === 'grammar')
  if (!grammar) throw new Error('no grammar criterion')
  for (const [words, context, suggestion] of PLANTED) {
    const start = ESSAY.indexOf(context) + context.indexOf(words)
    const found = grammar.annotations.find((a) => a.start === start && a.end === start + words.length)
    expect({ words, found: found && { quoted: answerText.slice(found.start, found.end), suggestion: found.suggestion } }).toEqual({
      words,
      found: { quoted: words, suggestion },
    })
  }
  const splice = ESSAY.indexOf(', it is hard')
  const splices = grammar.annotations.filter((a) => a.message.includes('joined by a comma'))
  expect(splices.map((a) => [a.start, answerText.slice(a.start, a.end)])).toEqual([[splice, ',']])
}, 60_000)
