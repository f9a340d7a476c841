import type { ByteRange } from '../storage'

/**
 * One byte range of an HTTP `Range` header (RFC 9110 §14) against a size: a range to serve, null to
 * serve the whole (no header, another unit, several ranges, or bad syntax, which RFC 9110 says to
 * ignore), or 'unsatisfiable' (416) when it starts past the end.
 */
export function parseRange(header: string | null, size: number): ByteRange | null | 'unsatisfiable' {
  if (!header) return null
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!match || (match[1] === '' && match[2] === '')) return null
  if (match[1] === '') {
    const suffix = Number(match[2])
    if (suffix === 0) return 'unsatisfiable'
    return size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(match[1])
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1)
  if (match[2] !== '' && Number(match[2]) < start) return null
  if (start >= size) return 'unsatisfiable'
  return { start, end }
}
