import { useEffect, useRef, useState } from 'react'

/**
 * A draft answer autosaved to localStorage per user and task (debounced), restored when the
 * learner comes back, cleared after a successful submit. Only the learner's own text is stored:
 * never a token.
 */
export const draftKey = (userId: string, taskId: string) => `vstep:draft:${userId}:${taskId}`

export function useDraft(userId: string, taskId: string) {
  const key = draftKey(userId, taskId)
  const [text, setText] = useState(() => localStorage.getItem(key) ?? '')
  const [savedAt, setSavedAt] = useState<number | null>(null)
  const first = useRef(true)

  useEffect(() => {
    setText(localStorage.getItem(key) ?? '')
    first.current = true
  }, [key])

  useEffect(() => {
    if (first.current) {
      first.current = false
      return
    }
    const timer = setTimeout(() => {
      if (text) localStorage.setItem(key, text)
      else localStorage.removeItem(key)
      setSavedAt(Date.now())
    }, 400)
    return () => clearTimeout(timer)
  }, [key, text])

  const clear = () => {
    localStorage.removeItem(key)
    setSavedAt(null)
  }
  return { text, setText, savedAt, clear }
}
