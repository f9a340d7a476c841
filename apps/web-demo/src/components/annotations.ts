/** A feedback note anchored in the answer: UTF-16 offsets, as JavaScript strings index. */
export type TextAnnotation = { start: number; end: number; message: string; suggestion?: string | null | undefined; criterion: string }

export type Segment = { text: string; note: number | null }

/**
 * Cuts the answer into plain runs and annotated runs, in text order. Offsets are clamped to the
 * text; empty and overlapping spans are dropped (the earlier-starting, then longer, one wins), so
 * every character is shown exactly once. `note` is the index into the returned `notes`.
 */
export function segmentText(text: string, annotations: TextAnnotation[]): { segments: Segment[]; notes: TextAnnotation[] } {
  const sorted = annotations
    .map((a) => ({ ...a, start: Math.max(0, Math.min(a.start, text.length)), end: Math.max(0, Math.min(a.end, text.length)) }))
    .filter((a) => a.end > a.start)
    .sort((a, b) => a.start - b.start || b.end - a.end)
  const notes: TextAnnotation[] = []
  const segments: Segment[] = []
  let at = 0
  for (const a of sorted) {
    if (a.start < at) continue // overlaps the previous span
    if (a.start > at) segments.push({ text: text.slice(at, a.start), note: null })
    segments.push({ text: text.slice(a.start, a.end), note: notes.length })
    notes.push(a)
    at = a.end
  }
  if (at < text.length) segments.push({ text: text.slice(at), note: null })
  return { segments, notes }
}
