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
 * The app's own server: it only serves the page (Bun bundles index.html, its TSX and CSS) and a
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
      '/config.json': () => Response.json({ apiUrl }, { headers: { 'cache-control': 'no-store' } }),
      // The app routes in the browser (history API): every other path is the page, so deep links
      // and reloads of /submissions/:id work. Bun serves the bundle's own assets before this.
      '/*': index,
    },
  })
}

if (import.meta.main) {
  const server = startDemoServer()
  console.log(`web-demo on ${server.url} (API ${resolveApiUrl()})`)
}
