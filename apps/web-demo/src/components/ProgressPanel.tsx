import type { Progress } from '@vstep/contracts'
import { cefrLabel, skillLabel } from '../labels'
import { formatScore, MIN_ATTEMPTS } from './chart'
import { ProgressChart } from './ProgressChart'

/**
 * `GET /v1/progress` as the learner sees it: the API's estimate per skill and overall (the page does
 * no maths of its own) and a chart of the graded attempts per skill.
 */
export function ProgressPanel({ progress }: { progress: Progress }) {
  const overall = progress.overall
  return (
    <>
      <div className="progress-overall" data-status={overall.status} aria-live="polite">
        {overall.status === 'estimated' && overall.band !== null ? (
          <p className="estimate">
            <span className="estimate-label">Overall estimate</span>
            <span className="band">{formatScore(overall.band)}</span>
            <span className="level">{cefrLabel(overall.cefr)}</span>
          </p>
        ) : (
          <p className="estimate insufficient">
            <span className="estimate-label">Overall estimate</span>
            Insufficient data: it needs an estimated band for every skill ({progress.skills.map((s) => skillLabel(s.skill)).join(' and ')}).
          </p>
        )}
      </div>
      <div className="progress-skills">
        {progress.skills.map((skill) => {
          const name = skillLabel(skill.skill)
          const titleId = `progress-${skill.skill}-title`
          return (
            <article key={skill.skill} className="skill-progress" data-skill={skill.skill} aria-labelledby={titleId}>
              <h3 id={titleId}>{name}</h3>
              {skill.status === 'estimated' && skill.band !== null ? (
                <p className="estimate" data-status={skill.status}>
                  <span className="band">{formatScore(skill.band)}</span>
                  <span className="level">{cefrLabel(skill.cefr)}</span>
                  <span className="estimate-note">
                    estimated band · last {skill.attemptsInWindow} graded {skill.attemptsInWindow === 1 ? 'attempt' : 'attempts'}
                  </span>
                </p>
              ) : (
                <p className="estimate insufficient" data-status={skill.status}>
                  Insufficient data ({skill.attemptsInWindow} of {MIN_ATTEMPTS} graded attempts)
                </p>
              )}
              {skill.history.length > 0 ? (
                <ProgressChart name={name} history={skill.history} />
              ) : (
                <p className="hint">No graded attempts yet.</p>
              )}
            </article>
          )
        })}
      </div>
    </>
  )
}
