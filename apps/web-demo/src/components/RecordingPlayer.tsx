import { useEffect, useState } from 'react'
import { useSession } from '../session/SessionProvider'

/**
 * Plays a spoken answer. The recording is private (`GET /v1/submissions/:id/audio` needs the access
 * token), so an <audio src> cannot load it directly: it is fetched through Eden as a Blob (an
 * `onResponse` hook, since Eden would read an audio body as text) and played from an object URL.
 */
export function RecordingPlayer({ submissionId }: { submissionId: string }) {
  const { authed, clientWith } = useSession()
  const [url, setUrl] = useState<string | null>(null)
  const [failed, setFailed] = useState(false)

  useEffect(() => {
    let live = true
    let made: string | null = null
    const client = clientWith({ onResponse: async (r: Response) => (r.ok ? await r.blob() : undefined) })
    void authed(() => client.v1.submissions({ id: submissionId }).audio.get()).then((res) => {
      if (!live || !res) return
      const blob: unknown = res.data
      if (res.error || !(blob instanceof Blob)) return setFailed(true)
      made = URL.createObjectURL(blob)
      setUrl(made)
    })
    return () => {
      live = false
      if (made) URL.revokeObjectURL(made)
    }
  }, [authed, clientWith, submissionId])

  if (failed) return <p className="state empty">The recording could not be loaded.</p>
  if (!url) return <p className="state loading">Loading the recording…</p>
  // biome-ignore lint/a11y/useMediaCaption: the transcript is shown with the result
  return <audio controls src={url} aria-label="Your recording" id="recording" />
}
