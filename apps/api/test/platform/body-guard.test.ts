/** The body gate's pure parts: the nesting scan, the bounded reader, and sizing against the longest essay. */
import { describe, expect, test } from 'bun:test'
import { ANSWER_LIMITS } from '@vstep/contracts'
import { jsonNestingExceeds, MAX_JSON_DEPTH, mediaTypeOf, parseGuardedJson, readBoundedText } from '../../src/platform/body-guard'
import { ProblemError } from '../../src/platform/problem'
import { loadConfig } from '../../src/config'

const nested = (depth: number, open = '[', close = ']') => open.repeat(depth) + close.repeat(depth)
const statusOf = async (work: () => unknown): Promise<number | 'ok'> => {
  try {
    await work()
    return 'ok'
  } catch (error) {
    if (error instanceof ProblemError) return error.status
    throw error
  }
}

describe('jsonNestingExceeds', () => {
  test('counts arrays and objects together, up to the limit inclusive', () => {
    expect(jsonNestingExceeds(nested(32), 32)).toBe(false)
    expect(jsonNestingExceeds(nested(33), 32)).toBe(true)
    expect(jsonNestingExceeds('{"a":[{"b":[{}]}]}', 5)).toBe(false)
    expect(jsonNestingExceeds('{"a":[{"b":[{}]}]}', 4)).toBe(true)
  })

  test('brackets inside strings, escaped quotes included, do not count', () => {
    const text = JSON.stringify({ essay: `${'['.repeat(1000)} a \\" quote " and ${'{'.repeat(1000)}` })
    expect(jsonNestingExceeds(text, 1)).toBe(false)
    expect(jsonNestingExceeds(`["\\\\", ${nested(2)}]`, 2)).toBe(true)
  })

  test('siblings do not add up: depth is nesting, not count', () => {
    expect(jsonNestingExceeds(`[${Array.from({ length: 10_000 }, () => '[1]').join(',')}]`, 2)).toBe(false)
  })
})

describe('parseGuardedJson', () => {
  test('an 80 KB [[[…]]] is refused with 400 in well under a millisecond per KB, without parsing', async () => {
    const started = performance.now()
    expect(await statusOf(() => parseGuardedJson(nested(40_000)))).toBe(400)
    expect(performance.now() - started).toBeLessThan(50)
  })

  test('invalid JSON is a 400 whose detail does not echo the input', () => {
    try {
      parseGuardedJson('{"password": "hunter2"')
      throw new Error('expected a ProblemError')
    } catch (error) {
      expect(error).toBeInstanceOf(ProblemError)
      expect((error as ProblemError).status).toBe(400)
      expect((error as ProblemError).detail).not.toContain('hunter2')
    }
  })

  test('ordinary JSON comes back parsed', () => {
    expect(parseGuardedJson('{"a":[1,{"b":"]"}]}')).toEqual({ a: [1, { b: ']' }] })
  })
})

describe('readBoundedText', () => {
  const streamOf = (chunks: string[], onPull: () => void = () => {}) => {
    let i = 0
    return new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          onPull()
          if (i < chunks.length) controller.enqueue(new TextEncoder().encode(chunks[i++]))
          else controller.close()
        },
      },
      { highWaterMark: 0 },
    ) // nothing is pulled until someone reads
  }

  test('a declared Content-Length over the limit is refused before any byte is read', async () => {
    let pulls = 0
    const body = streamOf(['x'.repeat(10)], () => pulls++)
    const request = new Request('http://x/', { method: 'POST', body, headers: { 'content-length': '2000' } })
    expect(await statusOf(() => readBoundedText(request, 1000))).toBe(413)
    expect(pulls).toBe(0)
  })

  test('a chunked body is cut off once it passes the limit, not read to its end', async () => {
    let pulls = 0
    const body = streamOf(
      Array.from({ length: 1_000 }, () => 'x'.repeat(100)),
      () => pulls++,
    )
    const request = new Request('http://x/', { method: 'POST', body })
    expect(await statusOf(() => readBoundedText(request, 1_000))).toBe(413)
    expect(pulls).toBeLessThan(20)
  })

  test('a body within the limit is returned whole; invalid UTF-8 is a 400', async () => {
    expect(await readBoundedText(new Request('http://x/', { method: 'POST', body: '{"a":"é"}' }), 1_000)).toBe('{"a":"é"}')
    const invalid = new Request('http://x/', { method: 'POST', body: new Uint8Array([0x7b, 0xff, 0x7d]) })
    expect(await statusOf(() => readBoundedText(invalid, 1_000))).toBe(400)
  })
})

test('mediaTypeOf drops parameters and case', () => {
  expect(mediaTypeOf('Application/JSON; charset=utf-8')).toBe('application/json')
  expect(mediaTypeOf(null)).toBe('')
})

test('the default JSON limit fits the longest essay even with every character \\u-escaped', () => {
  const config = loadConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/x' })
  const essay = JSON.stringify({ taskId: crypto.randomUUID(), answerText: 'é'.repeat(ANSWER_LIMITS.maxChars) }).replaceAll('é', '\\u00e9')
  expect(essay.length).toBeGreaterThan(ANSWER_LIMITS.maxChars * 6)
  expect(essay.length).toBeLessThanOrEqual(config.JSON_BODY_LIMIT_BYTES)
  expect(config.MAX_REQUEST_BODY_BYTES).toBeGreaterThanOrEqual(config.JSON_BODY_LIMIT_BYTES)
  expect(MAX_JSON_DEPTH).toBeGreaterThanOrEqual(4)
})

test('MAX_REQUEST_BODY_BYTES below JSON_BODY_LIMIT_BYTES is a configuration error', () => {
  expect(() =>
    loadConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/x', JSON_BODY_LIMIT_BYTES: '200000', MAX_REQUEST_BODY_BYTES: '100000' }),
  ).toThrow(/MAX_REQUEST_BODY_BYTES/)
})
