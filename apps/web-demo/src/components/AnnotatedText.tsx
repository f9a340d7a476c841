import { useId } from 'react'
import { criterionLabel } from '../labels'
import { segmentText, type TextAnnotation } from './annotations'

/**
 * The learner's answer with feedback underlined where it applies. Each underlined span is a link
 * to its numbered note (listed below the text) and described by it, so keyboard and screen reader
 * users get the message too; the title shows it on hover.
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
            // A link to its note: keyboard users tab from mark to mark, screen readers hear the note
            // as the description, and following it jumps to the note under the text.
            <a key={i} className="annotation-link" href={`#${base}-${s.note}`} aria-describedby={`${base}-${s.note}`}>
              <mark className="annotation" data-criterion={notes[s.note]?.criterion} title={notes[s.note]?.message}>
                {s.text}
              </mark>
              <sup aria-hidden="true">{s.note + 1}</sup>
            </a>
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
