import createClient, { type Middleware } from 'openapi-fetch'
import type { components, paths } from './generated/schema'

export type { components, paths }
export type Problem = components['schemas']['Problem']

/**
 * The API client a mobile app would use, generated from the OpenAPI document: every path, body and
 * answer is typed from apps/api/openapi.json. `accessToken()` supplies the current bearer token
 * (refresh it with POST /v1/auth/refresh when a call answers 401).
 */
export function createApiClient(baseUrl: string, options: { accessToken?: () => string | undefined } = {}) {
  const client = createClient<paths>({ baseUrl })
  const bearer: Middleware = {
    onRequest({ request }) {
      const token = options.accessToken?.()
      if (token && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${token}`)
      return request
    },
  }
  client.use(bearer)
  return client
}
