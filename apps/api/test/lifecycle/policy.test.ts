import { describe, expect, test } from 'bun:test'
import { GRADING_POLICY, isNearCutoff, routeGrade, type RoutingInput } from '@vstep/contracts'

const base: RoutingInput = {
  mode: 'hybrid',
  ai: { overall: 7, confidence: 0.9, offTopic: false },
  wordCount: 300,
  minWords: 250,
  spotCheckDraw: 0.99,
}
const route = (o: Partial<RoutingInput> & { ai?: RoutingInput['ai'] }) => routeGrade({ ...base, ...o })

describe('grading policy routing', () => {
  test('defaults are the documented ones', () => {
    expect(GRADING_POLICY.spotCheckShare).toBe(0.05)
    expect(GRADING_POLICY.cutoffs).toEqual([4, 6, 8.5])
    expect(GRADING_POLICY.deadlineMinutes).toEqual({ writing: 20, speaking: 60 })
    expect(GRADING_POLICY.claimTakeoverMinutes).toBe(15)
  })
  test('human mode: review_pending, medium', () => {
    expect(route({ mode: 'human' })).toEqual({ status: 'review_pending', review: { priority: 'medium', reasons: ['human_mode'] } })
  })
  test('AI failed for good: auto fails, hybrid goes to review with high priority', () => {
    expect(route({ mode: 'auto', ai: null })).toEqual({ status: 'failed', review: null })
    expect(route({ ai: null })).toEqual({ status: 'review_pending', review: { priority: 'high', reasons: ['ai_failed'] } })
  })
  test('hybrid reasons and priorities', () => {
    expect(route({ ai: { overall: 7, confidence: 0.3, offTopic: false } }).review).toEqual({
      priority: 'high',
      reasons: ['low_confidence'],
    })
    expect(route({ ai: { overall: 7, confidence: 0.6, offTopic: false } }).review).toEqual({
      priority: 'medium',
      reasons: ['medium_confidence'],
    })
    expect(route({ ai: { overall: 6.0, confidence: 0.9, offTopic: false } }).review).toEqual({ priority: 'high', reasons: ['near_cutoff'] })
    expect(route({ ai: { overall: 8.5, confidence: 0.6, offTopic: false } }).review).toEqual({
      priority: 'high',
      reasons: ['medium_confidence', 'near_cutoff'],
    })
    expect(route({ ai: { overall: 7, confidence: 0.9, offTopic: true } }).review).toEqual({ priority: 'medium', reasons: ['off_topic'] })
    expect(route({ wordCount: 100 }).review).toEqual({ priority: 'medium', reasons: ['too_short'] })
    expect(route({})).toEqual({ status: 'completed', review: null })
  })
  test('near cut-off is ±0.25 inclusive', () => {
    expect(isNearCutoff(3.75)).toBe(true)
    expect(isNearCutoff(4.25)).toBe(true)
    expect(isNearCutoff(4.5)).toBe(false)
    expect(isNearCutoff(8.0)).toBe(false)
    expect(isNearCutoff(8.5)).toBe(true)
  })
  test('spot checks: a draw below the share samples an auto-accepted result (low), in auto and hybrid', () => {
    expect(route({ mode: 'auto', spotCheckDraw: 0.01 })).toEqual({
      status: 'completed',
      review: { priority: 'low', reasons: ['spot_check'] },
    })
    expect(route({ spotCheckDraw: 0.049 })).toEqual({ status: 'completed', review: { priority: 'low', reasons: ['spot_check'] } })
    expect(route({ mode: 'auto', spotCheckDraw: 0.05 })).toEqual({ status: 'completed', review: null })
    // Low confidence in auto mode is still final.
    expect(route({ mode: 'auto', ai: { overall: 6, confidence: 0.1, offTopic: true } })).toEqual({ status: 'completed', review: null })
  })
})
