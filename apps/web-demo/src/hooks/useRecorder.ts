import { useCallback, useEffect, useRef, useState } from 'react'

export type RecorderPhase = 'idle' | 'preparing' | 'recording' | 'recorded'

export type Recorder = {
  phase: RecorderPhase
  /** When the current phase (preparation or recording) started, ms; null otherwise. */
  phaseStartedAt: number | null
  recording: Blob | null
  /** An object URL of the recording for <audio>, revoked when it is replaced or the page is left. */
  url: string | null
  error: string | null
  prepare: () => Promise<void>
  record: () => void
  stop: () => void
  reset: () => void
}

/** The container Chromium and Firefox both record, and the API accepts. */
const preferredType = () =>
  ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg;codecs=opus'].find((t) => MediaRecorder.isTypeSupported(t)) ?? ''

/**
 * The microphone through MediaRecorder: `prepare` asks for the microphone (so a refusal shows before
 * the countdown), `record` starts, `stop` ends and keeps the recording as a Blob for playback and
 * upload, `reset` throws it away to record again.
 */
export function useRecorder(): Recorder {
  const [phase, setPhase] = useState<RecorderPhase>('idle')
  const [phaseStartedAt, setPhaseStartedAt] = useState<number | null>(null)
  const [recording, setRecording] = useState<Blob | null>(null)
  const [url, setUrl] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const stream = useRef<MediaStream | null>(null)
  const recorder = useRef<MediaRecorder | null>(null)

  const release = () => {
    for (const track of stream.current?.getTracks() ?? []) track.stop()
    stream.current = null
  }
  useEffect(() => () => release(), [])
  useEffect(() => () => (url ? URL.revokeObjectURL(url) : undefined), [url])

  const prepare = useCallback(async () => {
    setError(null)
    try {
      stream.current ??= await navigator.mediaDevices.getUserMedia({ audio: true })
    } catch (e) {
      setError(
        e instanceof DOMException && e.name === 'NotAllowedError'
          ? 'Microphone access was refused. Allow it in the browser to record.'
          : `No microphone available (${e instanceof Error ? e.message : String(e)}).`,
      )
      return
    }
    setPhase('preparing')
    setPhaseStartedAt(Date.now())
  }, [])

  const record = useCallback(() => {
    if (!stream.current) return
    const chunks: Blob[] = []
    const type = preferredType()
    const r = new MediaRecorder(stream.current, type ? { mimeType: type } : undefined)
    r.ondataavailable = (e) => {
      if (e.data.size > 0) chunks.push(e.data)
    }
    r.onstop = () => {
      const blob = new Blob(chunks, { type: r.mimeType || type || 'audio/webm' })
      setRecording(blob)
      setUrl(URL.createObjectURL(blob))
      setPhase('recorded')
      setPhaseStartedAt(null)
      release()
    }
    recorder.current = r
    r.start(250)
    setPhase('recording')
    setPhaseStartedAt(Date.now())
  }, [])

  const stop = useCallback(() => {
    if (recorder.current?.state === 'recording') recorder.current.stop()
  }, [])

  const reset = useCallback(() => {
    setRecording(null)
    setUrl(null)
    setPhase('idle')
    setPhaseStartedAt(null)
  }, [])

  return { phase, phaseStartedAt, recording, url, error, prepare, record, stop, reset }
}
