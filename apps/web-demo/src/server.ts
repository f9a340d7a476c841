import index from './index.html'

export type DemoServerOptions = {
  /** 0 picks a free port (tests). */
  port?: number
  hostname?: string
  /** Base URL of the VSTEP API the page talks to. */
  apiUrl?: string
  /** Bundles on request with HMR and source maps; off in production. */
  development?: boolean
}

/**
 * The demo's own server: it only serves the page (Bun bundles index.html, its TS and CSS) and a
 * `/config.json` that tells the page where the API is. The page talks to the API directly (CORS).
 */
export const resolveApiUrl = (explicit?: string) => (explicit ?? process.env.API_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '')

export function startDemoServer(options: DemoServerOptions = {}) {
  const apiUrl = resolveApiUrl(options.apiUrl)
  const development = options.development ?? process.env.NODE_ENV !== 'production'
  return Bun.serve({
    port: options.port ?? Number(process.env.PORT ?? 5173),
    hostname: options.hostname ?? process.env.HOST ?? '127.0.0.1',
    development: development ? { hmr: true, console: true } : false,
    routes: {
      '/': index,
      '/config.json': () => Response.json({ apiUrl }, { headers: { 'cache-control': 'no-store' } }),
    },
    fetch: () => new Response('Not found', { status: 404 }),
  })
}

if (import.meta.main) {
  const server = startDemoServer()
  console.log(`web-demo on ${server.url} (API ${resolveApiUrl()})`)
}
