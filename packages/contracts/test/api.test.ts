import { describe, expect, test } from 'bun:test'
import { ListSubmissionsQuery } from '../src/api'

describe('ListSubmissionsQuery date filters', () => {
  const accepts = ['2026-11-29', '2026-11-29T10:00:00Z', '2026-11-29T10:00:00.5+07:00', '1999-01-01T00:00:00-15:59']
  const refuses = ['0778-03-18T21:39:15.9-22:24', '2026-11-29T10:00:00+16:00', '1899-12-31', '2026-02-30', 'yesterday']
  for (const value of accepts) test(`accepts ${value}`, () => expect(ListSubmissionsQuery.safeParse({ from: value }).success).toBe(true))
  for (const value of refuses) test(`refuses ${value}`, () => expect(ListSubmissionsQuery.safeParse({ to: value }).success).toBe(false))
})
