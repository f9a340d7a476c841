import { describe, expect, test } from 'bun:test'
import { criteriaForSkill, GRADE_ORIGINS } from '@vstep/contracts'
import { asProblem, describeProblem, retryAfterSeconds } from '../src/api/problem'
import { segmentText } from '../src/components/annotations'
import { ageOf, CRITERIA_BY_SKILL, eventLabel, failureReason, GRADE_ORIGIN_LABELS, gradeOriginLabel } from '../src/labels'
import { matchPath } from '../src/routing/router'

describe('segmentText', () => {
  const note = (start: number, end: number, message = 'm') => ({ start, end, message, criterion: 'grammar' })

  test('plain and annotated runs in order; every character exactly once', () => {
    const text = 'she have a lot'
    const { segments, notes } = segmentText(text, [note(4, 8, 'has')])
    expect(segments).toEqual([
      { text: 'she ', note: null },
      { text: 'have', note: 0 },
      { text: ' a lot', note: null },
    ])
    expect(notes.map((n) => n.message)).toEqual(['has'])
    expect(segments.map((s) => s.text).join('')).toBe(text)
  })

  test('UTF-16 offsets: an emoji before the span counts as two', () => {
    const text = '🏠 she have'
    const { segments } = segmentText(text, [note(7, 11)])
    expect(segments.find((s) => s.note === 0)?.text).toBe('have')
  })

  test('overlapping, empty and out-of-range spans are dropped or clamped', () => {
    const text = 'abcdefghij'
    const { segments, notes } = segmentText(text, [note(5, 9), note(2, 6), note(3, 3), note(8, 50)])
    // sorted by start: [2,6) wins, [5,9) overlaps it, [3,3) is empty, [8,50) is clamped to [8,10).
    expect(notes.map((n) => [n.start, n.end])).toEqual([
      [2, 6],
      [8, 10],
    ])
    expect(segments.map((s) => s.text).join('')).toBe(text)
  })
})

describe('labels', () => {
  test('the copied criteria equal the contract', () => {
    expect<string[]>([...CRITERIA_BY_SKILL.writing]).toEqual([...criteriaForSkill('writing')])
    expect<string[]>([...CRITERIA_BY_SKILL.speaking]).toEqual([...criteriaForSkill('speaking')])
  })
  test('failure reasons and ages read as words', () => {
    expect(failureReason('timeout')).toBe('Grading took longer than the deadline allows.')
    expect(failureReason('some_new_code')).toBe('some new code')
    expect(failureReason(null)).toBe('No reason was recorded.')
    const now = Date.parse('2030-01-03T00:00:00Z')
    expect(ageOf('2030-01-02T23:55:00Z', now)).toBe('5 min')
    expect(ageOf('2030-01-02T21:00:00Z', now)).toBe('3 h')
    expect(ageOf('2030-01-01T00:00:00Z', now)).toBe('2 d')
  })
})

describe('problems', () => {
  test('Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterSeconds('17')).toBe(17)
    expect(retryAfterSeconds('Thu, 01 Jan 2030 00:00:30 GMT', Date.parse('2030-01-01T00:00:00Z'))).toBe(30)
    expect(retryAfterSeconds(null)).toBeUndefined()
    expect(retryAfterSeconds('soon')).toBeUndefined()
  })
  test('a 429 says how long to wait; a 503 that is not a network failure says the service is busy', () => {
    const limited = asProblem(
      { status: 429, value: { type: 'about:blank', title: 'Too Many Requests', status: 429 } },
      new Response(null, { headers: { 'retry-after': '12' } }),
    )
    expect(limited.retryAfterSeconds).toBe(12)
    expect(describeProblem(limited)).toBe('Too many requests. Try again in 12 seconds.')
    expect(describeProblem({ type: 'about:blank', title: 'Service Unavailable', status: 503 })).toBe(
      'The service is busy. Please try again shortly.',
    )
  })
  test('a network failure is marked as such', () => {
    const p = asProblem({ status: 503, value: new TypeError('Failed to fetch') })
    expect(p).toMatchObject({ title: 'Network error', network: true })
  })
})

describe('matchPath', () => {
  test('params, literal segments, length', () => {
    expect(matchPath('/submissions/:id', '/submissions/42')).toEqual({ id: '42' })
    expect(matchPath('/submissions/:id', '/submissions/42/x')).toBeNull()
    expect(matchPath('/admin/tasks', '/admin/users')).toBeNull()
    expect(matchPath('/', '/')).toEqual({})
  })
})

describe('grade origins and spot checks', () => {
  test('every origin of the contract has its own words; a human grade is a teacher whatever its origin', () => {
    expect(Object.keys(GRADE_ORIGIN_LABELS).sort()).toEqual([...GRADE_ORIGINS].sort())
    expect(new Set(Object.values(GRADE_ORIGIN_LABELS)).size).toBe(GRADE_ORIGINS.length)
    expect(gradeOriginLabel({ source: 'ai', origin: 'fallback' })).toContain('offline scorer')
    expect(gradeOriginLabel({ source: 'ai', origin: null })).toBe(GRADE_ORIGIN_LABELS.provider)
    expect(gradeOriginLabel({ source: 'human', origin: null })).toBe('Graded by a teacher')
  })

  test('a completed → completed event reads as a review, any other as its status', () => {
    expect(eventLabel({ from: 'completed', to: 'completed' })).toContain('teacher checked')
    expect(eventLabel({ from: 'review_pending', to: 'completed' })).toBe('Completed — your score is ready')
    expect(eventLabel({ from: null, to: 'pending' })).toBe('Pending — queued for grading')
  })
})
