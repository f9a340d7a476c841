import { useEffect, useState } from 'react'

/**
 * Seconds left of `totalSeconds` since `startedAt` (ms), ticking once a second; never below 0.
 * `startedAt` null: not started, the whole time is left.
 */
export function useCountdown(totalSeconds: number, startedAt: number | null): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    if (startedAt === null) return
    setNow(Date.now())
    const timer = setInterval(() => setNow(Date.now()), 1000)
    return () => clearInterval(timer)
  }, [startedAt])
  if (startedAt === null) return totalSeconds
  return Math.max(0, totalSeconds - Math.floor((now - startedAt) / 1000))
}

/** 125 → "2:05". */
export const formatClock = (seconds: number) => `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`
