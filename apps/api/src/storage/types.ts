/**
 * Where spoken answers are kept: one interface, two backends (a local directory by default, an
 * S3-compatible bucket in production). Keys are opaque, unguessable paths the API makes
 * (`audio/<user id>/<random uuid>.<ext>`); no backend ever hands out a public URL: the bytes reach a
 * client only through GET /v1/submissions/:id/audio, after the access check.
 */
export type ByteRange = { start: number; end: number } // inclusive, as in an HTTP Range header

export interface AudioStorage {
  readonly kind: 'local' | 's3'
  /** Stores the file at `sourcePath` (a temporary file the upload was streamed to) under `key`. */
  put(key: string, sourcePath: string, contentType: string): Promise<void>
  /** The object's size in bytes, or null when there is none. */
  size(key: string): Promise<number | null>
  /** The bytes (all, or one inclusive range) as a stream. */
  read(key: string, range?: ByteRange): ReadableStream<Uint8Array>
  /** Removes the object; a missing one is not an error. */
  delete(key: string): Promise<void>
}
