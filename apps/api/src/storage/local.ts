import { mkdir, rename, copyFile, rm, stat } from 'node:fs/promises'
import { dirname, resolve, sep } from 'node:path'
import type { AudioStorage, ByteRange } from './types'

/** A directory on the API's disk (AUDIO_DIR); in docker-compose a volume the worker mounts too. */
export class LocalAudioStorage implements AudioStorage {
  readonly kind = 'local' as const
  private readonly root: string

  constructor(directory: string) {
    this.root = resolve(directory)
  }

  /** The file of a key, never outside the root (keys are ours, but a path is checked anyway). */
  private pathOf(key: string): string {
    const path = resolve(this.root, key)
    if (!path.startsWith(this.root + sep)) throw new Error(`storage key outside the audio directory: ${key}`)
    return path
  }

  async put(key: string, sourcePath: string): Promise<void> {
    const target = this.pathOf(key)
    await mkdir(dirname(target), { recursive: true })
    try {
      await rename(sourcePath, target) // same file system: no copy
    } catch {
      await copyFile(sourcePath, target)
    }
  }

  async size(key: string): Promise<number | null> {
    try {
      return (await stat(this.pathOf(key))).size
    } catch {
      return null
    }
  }

  read(key: string, range?: ByteRange): ReadableStream<Uint8Array> {
    const file = Bun.file(this.pathOf(key))
    return (range ? file.slice(range.start, range.end + 1) : file).stream()
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true })
  }
}
