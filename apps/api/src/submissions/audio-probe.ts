/**
 * Checks an uploaded recording by decoding it once with ffmpeg (to 16 kHz mono, into nothing):
 * whether it decodes cleanly, how long it lasts, and how loud its loudest sample is. Parsing and the
 * verdict are pure functions; only {@link probeAudio} runs a process.
 */
export type AudioProbe = { ok: true; durationSeconds: number; maxVolumeDb: number } | { ok: false; reason: string }

const PROBE_RATE = 16_000
/** Quieter than this at its loudest, a recording is silence (digital silence reads -91 dB). */
export const SILENCE_MAX_DB = -50

/** Reads ffmpeg's `-loglevel level+info` output of a volumedetect run. */
export function parseProbeOutput(stderr: string, exitCode: number): AudioProbe {
  const errors = stderr
    .split('\n')
    .filter((line) => /\[(error|fatal|panic)\]/.test(line))
    .map((line) => line.replace(/^.*\[(error|fatal|panic)\]\s*/, '').trim())
  const samples = /n_samples:\s*(\d+)/.exec(stderr)
  const maxVolume = /max_volume:\s*(-?[\d.]+|-?inf) dB/.exec(stderr)
  if (exitCode !== 0 || errors.length > 0) return { ok: false, reason: errors[0] ?? `ffmpeg exited with ${exitCode}` }
  if (!samples || !maxVolume) return { ok: false, reason: 'no audio stream' }
  const db = maxVolume[1]!.endsWith('inf') ? -Infinity : Number(maxVolume[1])
  return { ok: true, durationSeconds: Number(samples[1]) / PROBE_RATE, maxVolumeDb: db }
}

export async function probeAudio(ffmpeg: string, path: string, timeoutMs = 60_000): Promise<AudioProbe> {
  const proc = Bun.spawn(
    [
      ffmpeg,
      '-nostdin',
      '-hide_banner',
      '-nostats',
      '-loglevel',
      'level+info',
      '-i',
      path,
      '-map',
      '0:a:0',
      '-af',
      `aresample=${PROBE_RATE},aformat=channel_layouts=mono,volumedetect`,
      '-f',
      'null',
      '-',
    ],
    { stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' },
  )
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs)
  try {
    const [stderr, exitCode] = await Promise.all([new Response(proc.stderr).text(), proc.exited])
    return parseProbeOutput(stderr, exitCode)
  } finally {
    clearTimeout(timer)
  }
}

export type AudioLimits = { maxSeconds: number; minSeconds: number }
export type AudioVerdict = { ok: true } | { ok: false; field: 'audio'; message: string }

/** What the API answers about a probed recording: accepted, or why not (a 422 on `audio`). */
export function judgeRecording(probe: AudioProbe, limits: AudioLimits): AudioVerdict {
  if (!probe.ok) return { ok: false, field: 'audio', message: `the recording is damaged or incomplete (${probe.reason.slice(0, 120)})` }
  if (probe.durationSeconds > limits.maxSeconds) {
    return {
      ok: false,
      field: 'audio',
      message: `the recording lasts ${Math.round(probe.durationSeconds)} s; at most ${limits.maxSeconds} s are accepted`,
    }
  }
  if (probe.durationSeconds < limits.minSeconds) {
    return {
      ok: false,
      field: 'audio',
      message: `the recording lasts ${probe.durationSeconds.toFixed(1)} s; at least ${limits.minSeconds} s are needed`,
    }
  }
  if (probe.maxVolumeDb <= SILENCE_MAX_DB) return { ok: false, field: 'audio', message: 'the recording is silent: no sound was captured' }
  return { ok: true }
}
