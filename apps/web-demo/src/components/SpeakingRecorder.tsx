import type { Task } from '@vstep/contracts'

/** Placeholder until the recorder lands. */
export function SpeakingRecorder({ task }: { task: Task }) {
  return <p className="state empty">Recording for {task.title} is coming soon.</p>
}
