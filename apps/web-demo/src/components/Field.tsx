import type { ReactNode } from 'react'

/**
 * A labelled form field with its hint and its error: the input gets `aria-invalid` and is described
 * by both. `children` receives the ids to wire up.
 */
export function Field({
  id,
  label,
  hint,
  error,
  children,
}: {
  id: string
  label: string
  hint?: ReactNode
  error?: string | undefined
  children: (a11y: { id: string; 'aria-invalid'?: true; 'aria-describedby': string }) => ReactNode
}) {
  const describedBy = [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(' ')
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-describedby': describedBy, ...(error ? { 'aria-invalid': true } : {}) })}
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      <p className="field-error" id={`${id}-error`}>
        {error ?? ''}
      </p>
    </div>
  )
}
