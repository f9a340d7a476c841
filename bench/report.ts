/** Charts (SVG rendered to PNG with rsvg-convert) for docs/benchmarks.md, from the results of one run. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

type Series = { name: string; color: string; values: number[] }

/** A grouped bar chart: one group per label, one bar per series; values written above the bars. */
export function barChart(title: string, unit: string, labels: string[], series: Series[]): string {
  const width = 760
  const height = 380
  const left = 70
  const bottom = 60
  const top = 50
  const plotH = height - top - bottom
  const max = Math.max(1, ...series.flatMap((s) => s.values.filter(Number.isFinite))) * 1.15
  const groupW = (width - left - 20) / labels.length
  const barW = Math.min(60, (groupW - 20) / series.length)
  const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;')
  const fmt = (v: number) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : String(Math.round(v * 10) / 10))
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif" font-size="12">`
  svg += `<rect width="100%" height="100%" fill="white"/><text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`
  for (let i = 0; i <= 4; i++) {
    const y = top + plotH - (plotH * i) / 4
    svg += `<line x1="${left}" x2="${width - 20}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${left - 6}" y="${y + 4}" text-anchor="end">${fmt((max * i) / 4)}</text>`
  }
  svg += `<text x="16" y="${top + plotH / 2}" transform="rotate(-90 16 ${top + plotH / 2})" text-anchor="middle">${esc(unit)}</text>`
  labels.forEach((label, g) => {
    const x0 = left + g * groupW + (groupW - barW * series.length) / 2
    series.forEach((s, k) => {
      const v = s.values[g] ?? 0
      if (!Number.isFinite(v)) return
      const h = (plotH * v) / max
      const x = x0 + k * barW
      svg += `<rect x="${x}" y="${top + plotH - h}" width="${barW - 4}" height="${h}" fill="${s.color}"/>`
      svg += `<text x="${x + (barW - 4) / 2}" y="${top + plotH - h - 4}" text-anchor="middle" font-size="10">${fmt(v)}</text>`
    })
    svg += `<text x="${left + g * groupW + groupW / 2}" y="${top + plotH + 18}" text-anchor="middle">${esc(label)}</text>`
  })
  series.forEach((s, k) => {
    const x = left + k * 170
    svg += `<rect x="${x}" y="${height - 22}" width="12" height="12" fill="${s.color}"/><text x="${x + 18}" y="${height - 12}">${esc(s.name)}</text>`
  })
  return `${svg}</svg>`
}

/** Writes `<name>.png` (and keeps no SVG) under `dir`; returns the file name, or null when rsvg-convert is missing. */
export function writePng(dir: string, name: string, svg: string): string | null {
  const svgPath = join(dir, `${name}.svg`)
  writeFileSync(svgPath, svg)
  const run = Bun.spawnSync(['rsvg-convert', '-o', join(dir, `${name}.png`), svgPath], { stdout: 'pipe', stderr: 'pipe' })
  Bun.spawnSync(['rm', '-f', svgPath])
  if (run.exitCode !== 0) {
    console.warn(`rsvg-convert failed for ${name}: ${run.stderr.toString()}`)
    return null
  }
  return `${name}.png`
}

export const API = '#2b6cb0'
export const FLOOR = '#a0aec0'
export const EXTRA = '#dd6b20'
