import pino from 'pino'
import { currentRequestId } from './request-context'

/**
 * The API's structured log: one JSON object per line on stdout (pino), with the field names the
 * worker's structlog lines use too (`time`, `level`, `msg`, `request_id`), so one query follows a
 * submission from the request into the grading job. Every line written while a request is handled
 * carries its `request_id` (from the request context), without passing it around.
 *
 * The level is LOG_LEVEL (index.ts sets it from the validated config); in-process tests (`bun test`
 * sets NODE_ENV=test) default to `warn`, so test output stays readable.
 */
export const log = pino({
  level: process.env.NODE_ENV === 'test' ? 'warn' : 'info',
  base: undefined, // no pid/hostname on every line: the orchestrator adds where a line came from
  messageKey: 'msg',
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
  mixin: () => {
    const requestId = currentRequestId()
    return requestId ? { request_id: requestId } : {}
  },
})

/** An error as log fields: its class and message (a stack only for errors we did not expect). */
export const errorFields = (error: unknown, withStack = false) =>
  error instanceof Error
    ? { err: { type: error.name, message: error.message, ...(withStack && error.stack ? { stack: error.stack } : {}) } }
    : { err: { message: String(error) } }
