import { S3Client } from 'bun'
import type { AudioStorage, ByteRange } from './types'

export type S3Settings = { endpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string }

/**
 * An S3-compatible bucket through Bun's built-in client (path-style requests, which every
 * S3-compatible server accepts). Uploads stream from the temporary file (multipart for large ones).
 */
export class S3AudioStorage implements AudioStorage {
  readonly kind = 's3' as const
  private readonly client: S3Client

  constructor(settings: S3Settings) {
    this.client = new S3Client({ ...settings, virtualHostedStyle: false })
  }

  async put(key: string, sourcePath: string, contentType: string): Promise<void> {
    await this.client.write(key, Bun.file(sourcePath), { type: contentType })
  }

  async size(key: string): Promise<number | null> {
    try {
      return await this.client.size(key)
    } catch (error) {
      if ((error as { code?: string }).code === 'NoSuchKey' || /404|NoSuchKey|not found/i.test(String(error))) return null
      throw error
    }
  }

  read(key: string, range?: ByteRange): ReadableStream<Uint8Array> {
    const file = this.client.file(key)
    return (range ? file.slice(range.start, range.end + 1) : file).stream()
  }

  async delete(key: string): Promise<void> {
    await this.client.delete(key)
  }
}
