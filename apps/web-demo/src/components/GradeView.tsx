import type { Submission } from '@vstep/contracts'
import { cefrLabel, criterionLabel, gradeOriginLabel } from '../labels'
import { AnnotatedText } from './AnnotatedText'
import type { TextAnnotation } from './annotations'

/**
 * The result of a completed submission: the final grade (the reviewer's when there is one, else the
 * AI's), its band and CEFR level, each criterion's score and feedback, the answer with the feedback
 * underlined at its spans (the AI grade's annotations: a human grade has none), the reviewer's comment,
 * and how each grade came about (teacher; AI fresh, reused or the offline scorer's fallback: `origin`).
 */
export function GradeView({ submission }: { submission: Submission }) {
  const human = submission.grades.find((g) => g.source === 'human')
  const ai = submission.grades.find((g) => g.source === 'ai')
  const grade = human ?? ai
  if (!grade) return <p className="state empty">Completed, but no grade was recorded.</p>
  const annotations: TextAnnotation[] = (ai?.criteria ?? []).flatMap((c) => c.annotations.map((a) => ({ ...a, criterion: c.criterion })))
  const text = submission.answerText ?? submission.transcript ?? null
  return (
    <section className="card score" id="score" aria-labelledby="score-title">
      <h2 id="score-title">Your result</h2>
      <div className="score-head">
        <div className="overall">
          <span className="label">Band</span>
          <span className="value" id="overall">
            {grade.overall.toFixed(1)}
          </span>
          <span className="out-of">/ 10</span>
        </div>
        <div className="cefr">
          <span className="label">CEFR</span>
          <span className="value" id="cefr">
            {cefrLabel(grade.cefr)}
          </span>
        </div>
        <p className="grade-source" id="grade-source">
          {gradeOriginLabel(grade)}
        </p>
      </div>
      {submission.grades.length > 1 && (
        <ul className="grade-origins" id="grade-origins" aria-label="Every grade of this answer">
          {submission.grades.map((g) => (
            <li key={g.id} data-source={g.source} data-origin={g.origin ?? ''}>
              {g.overall.toFixed(1)} · {gradeOriginLabel(g)}
              {g.source === 'ai' && human ? ' (replaced by the teacher’s grade)' : ''}
            </li>
          ))}
        </ul>
      )}
      {human ? (
        <div className="reviewer-comment" id="reviewer-comment">
          <h3>Teacher's comment</h3>
          <p>{human.feedback || 'No comment.'}</p>
        </div>
      ) : (
        <p className="overall-feedback">{grade.feedback}</p>
      )}
      <div className="table-scroll">
        <table className="criteria">
          <caption className="visually-hidden">Scores per criterion</caption>
          <thead>
            <tr>
              <th scope="col">Criterion</th>
              <th scope="col">Score</th>
              <th scope="col">Feedback</th>
            </tr>
          </thead>
          <tbody id="criteria">
            {grade.criteria.map((c) => (
              <tr key={c.criterion} data-criterion={c.criterion}>
                <th scope="row">{criterionLabel(c.criterion)}</th>
                <td>{c.score.toFixed(1)}</td>
                <td>{c.feedback || (human ? '' : '—')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {text !== null && (
        <>
          <h3>{submission.answerText !== null ? 'Your text, with feedback' : 'What we heard (transcript)'}</h3>
          <AnnotatedText text={text} annotations={annotations} />
        </>
      )}
    </section>
  )
}
