/**
 * The floor of an HTTP route: a bare Elysia app that answers each path with fixed bytes, in its own
 * process like the API. Usage: bun bench/bare-server.ts <bodies.json> (a map path → body); prints its URL.
 */
import { Elysia } from 'elysia'

const bodies = (await Bun.file(process.argv[2]!).json()) as Record<string, string>
let app = new Elysia()
for (const [path, body] of Object.entries(bodies)) {
  app = app.get(path, () => new Response(body, { headers: { 'content-type': 'application/json' } }))
}
app.listen({ port: 0, hostname: '127.0.0.1' })
console.log(`http://127.0.0.1:${app.server!.port}`)
