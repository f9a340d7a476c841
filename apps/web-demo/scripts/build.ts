/**
 * The production build: static files in dist/ (index.html, hashed JS and CSS), served by any static
 * server that answers unknown paths with index.html (deploy/web.nginx.conf.template). The API's
 * address is not baked in: the page reads /config.json, which the web server writes from API_URL.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dir, '..')
const outdir = join(root, 'dist')
rmSync(outdir, { recursive: true, force: true })
const result = await Bun.build({
  entrypoints: [join(root, 'src/index.html')],
  outdir,
  minify: true,
  sourcemap: 'linked',
  // Absolute asset URLs: /submissions/:id must load /chunk-….js, not /submissions/chunk-….js.
  publicPath: '/',
  define: { 'process.env.NODE_ENV': '"production"' },
})
if (!result.success) {
  for (const log of result.logs) console.error(log)
  process.exit(1)
}
for (const out of result.outputs) console.log(`${out.path.slice(root.length + 1)}  ${(out.size / 1024).toFixed(1)} KB`)
