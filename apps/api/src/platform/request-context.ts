import { AsyncLocalStorage } from 'node:async_hooks'
import { RequestId } from '@vstep/contracts'
import { Elysia } from 'elysia'

/**
 * The request id: the caller's `X-Request-Id` when it is well-formed (the contract's `RequestId`:
 * 8–128 of letters, digits, `.`, `_`, `:`, `-`), else a fresh UUID; echoed in the response's
 * `X-Request-Id`. It is kept in an AsyncLocalStorage for the rest of the request, so the logger
 * (platform/logger.ts) and the grading enqueue (submissions/grading-queue.ts) read it without every
 * function passing it on; the worker writes it on its log lines for that job.
 */
export const REQUEST_ID_HEADER = 'x-request-id'

type RequestContext = { requestId: string }
const storage = new AsyncLocalStorage<RequestContext>()
const ids = new WeakMap<Request, string>()

/** The incoming id if well-formed, else a new one. Pure, so it is unit-tested. */
export function requestIdFrom(header: string | null): string {
  return header !== null && RequestId.safeParse(header).success ? header : crypto.randomUUID()
}

/** The id of the request being handled here, if any (undefined in timers and at start-up). */
export const currentRequestId = (): string | undefined => storage.getStore()?.requestId

/** The id given to `request` (for hooks that may run outside its async context, such as afterResponse). */
export const requestIdOf = (request: Request): string | undefined => ids.get(request)

/** Runs `fn` as if inside a request with this id (tests, and work a request hands on). */
export const withRequestId = <T>(requestId: string, fn: () => T): T => storage.run({ requestId }, fn)

export const requestContext = new Elysia({ name: 'request-context' }).onRequest(({ request, set }) => {
  const requestId = requestIdFrom(request.headers.get(REQUEST_ID_HEADER))
  ids.set(request, requestId)
  // enterWith, not run(): a hook cannot wrap the handler. Bun gives every request its own async
  // context, so the store ends with the request.
  storage.enterWith({ requestId })
  set.headers[REQUEST_ID_HEADER] = requestId
})
