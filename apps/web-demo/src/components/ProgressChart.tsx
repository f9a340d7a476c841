import type { Progress } from '@vstep/contracts'
import { cefrLabel, formatDateTime, partLabel } from '../labels'
import { describeSeries, formatScore, layoutChart } from './chart'

type History = Progress['skills'][number]['history']

/** The per-skill line chart: geometry from `layoutChart`, drawn as SVG; screen readers get the aria-label and the table. */
export function ProgressChart({ name, history }: { name: string; history: History }) {
  const scores = history.map((p) => p.overall)
  const c = layoutChart(scores)
  return (
    <>
      <svg className="chart" viewBox={`0 0 ${c.width} ${c.height}`} role="img" aria-label={describeSeries(name, scores)}>
        <line className="axis" x1={c.plot.left} y1={c.plot.bottom} x2={c.plot.right} y2={c.plot.bottom} />
        {c.ticks.map((t) => (
          <text key={`t${t.label}`} className="tick" x={c.plot.left - 5} y={t.y} textAnchor="end" dominantBaseline="middle">
            {t.label}
          </text>
        ))}
        {c.guides.map((g) => (
          <g key={g.label}>
            <line className="guide" x1={c.plot.left} y1={g.y} x2={c.plot.right} y2={g.y} strokeDasharray="4 3" />
            <text className="guide-label" x={c.plot.right + 4} y={g.y} dominantBaseline="middle">
              {g.label}
            </text>
          </g>
        ))}
        {c.points.length > 1 && <path className="line" d={c.path} />}
        {c.points.map((p, i) => (
          <g key={i}>
            <circle className="point" cx={p.x} cy={p.y} r={3.5} data-score={p.label} />
            <text className="point-label" x={p.x} y={p.y - 7} textAnchor="middle">
              {p.label}
            </text>
          </g>
        ))}
      </svg>
      {/* A table ignores a 1px width; the wrapper clips it, so the hidden table cannot widen the page. */}
      <div className="visually-hidden">
        <table className="history">
          <caption>{`${name}: graded attempts, oldest first`}</caption>
          <thead>
            <tr>
              {['Attempt', 'Graded', 'Task', 'Score', 'CEFR'].map((h) => (
                <th key={h} scope="col">
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {history.map((p, i) => (
              <tr key={p.submissionId}>
                <th scope="row">{i + 1}</th>
                <td>{formatDateTime(p.gradedAt)}</td>
                <td>{partLabel(p.part)}</td>
                <td>{formatScore(p.overall)}</td>
                <td>{cefrLabel(p.cefr)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  )
}
