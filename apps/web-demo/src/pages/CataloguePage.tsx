import type { Skill } from '@vstep/contracts'
import { useState } from 'react'
import { PractiseNext } from '../components/PractiseNext'
import { Empty, LoadFailed, Loading } from '../components/States'
import { useApiQuery } from '../hooks/useApiQuery'
import { partLabel, skillLabel } from '../labels'
import { Link } from '../routing/router'

/** The task catalogue by skill and part, with the "practise next" suggestion on top. */
export function CataloguePage() {
  const [skill, setSkill] = useState<Skill>('writing')
  const tasks = useApiQuery((api) => api.v1.tasks.get({ query: { skill } }), [skill])
  const parts = new Map<string, NonNullable<typeof tasks.data>['items']>()
  for (const t of tasks.data?.items ?? []) parts.set(t.part, [...(parts.get(t.part) ?? []), t])

  return (
    <>
      <PractiseNext />
      <section className="card" aria-labelledby="catalogue-title">
        <h2 id="catalogue-title">Choose a task</h2>
        <fieldset className="tabs">
          <legend className="visually-hidden">Skill</legend>
          {(['writing', 'speaking'] as const).map((s) => (
            <button key={s} type="button" className="tab" aria-pressed={skill === s} onClick={() => setSkill(s)}>
              {skillLabel(s)}
            </button>
          ))}
        </fieldset>
        {tasks.loading && !tasks.data ? (
          <Loading what="tasks" />
        ) : tasks.problem ? (
          <LoadFailed problem={tasks.problem} retry={tasks.reload} />
        ) : parts.size === 0 ? (
          <Empty>No {skillLabel(skill)} tasks in the catalogue yet.</Empty>
        ) : (
          [...parts.entries()].map(([part, items]) => (
            <section key={part} className="part" aria-labelledby={`part-${part}`}>
              <h3 id={`part-${part}`}>{partLabel(part)}</h3>
              <ul className="task-list">
                {items.map((t) => (
                  <li key={t.id}>
                    <Link to={`/tasks/${t.id}`} className="task-link">
                      <span className="task-title">{t.title}</span>
                      <span className="task-meta">
                        {t.level} · {t.skill === 'writing' ? `at least ${t.minWords} words · ` : ''}
                        {t.timeLimitMinutes} min
                        {t.gradingMode !== 'auto' ? ` · ${t.gradingMode === 'human' ? 'teacher graded' : 'AI + teacher'}` : ''}
                      </span>
                    </Link>
                  </li>
                ))}
              </ul>
            </section>
          ))
        )}
      </section>
    </>
  )
}
