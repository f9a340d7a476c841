import { useId } from 'react'
import { criterionLabel } from '../labels'
import { segmentText, type TextAnnotation } from './annotations'

/**
 * The learner's answer with feedback underlined where it applies. Each underlined span is
 * focusable and described by its numbered note (listed below the text), so keyboard and screen
 * reader users get the message too; the title shows it on hover.
 */
export function AnnotatedText({ text, annotations }: { text: string; annotations: TextAnnotation[] }) {
  const base = useId()
  const { segments, notes } = segmentText(text, annotations)
  return (
    <div className="annotated">
      <p className="answer-text">
        {segments.map((s, i) =>
          s.note === null ? (
            <span key={i}>{s.text}</span>
          ) : (
            <mark key={i} className="annotation" data-criterion={notes[s.note]!.criterion} tabIndex={0} aria-describedby={`${base}-${s.note}`} title={notes[s.note]!.message}>
              {s.text}
              <sup aria-hidden="true">{s.note + 1}</sup>
            </mark>
          ),
        )}
      </p>
      {notes.length > 0 && (
        <ol className="notes" aria-label="Feedback in the text">
          {notes.map((n, i) => (
            <li key={i} id={`${base}-${i}`} data-criterion={n.criterion}>
              <span className="note-criterion">{criterionLabel(n.criterion)}:</span> {n.message}
              {n.suggestion ? <span className="suggestion"> Try: “{n.suggestion}”</span> : null}
            </li>
          ))}
        </ol>
      )}
    </div>
  )
}
