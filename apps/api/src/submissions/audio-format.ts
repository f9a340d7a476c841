import type { AUDIO_LIMITS } from '@vstep/contracts'

/**
 * What an uploaded recording is, judged by its bytes (never by the declared Content-Type or the
 * file name alone): pure functions over the first bytes of the file.
 */

/** The containers the contract accepts; EXTENSION_OF must name a file extension for each. */
export type AudioMediaType = (typeof AUDIO_LIMITS.mediaTypes)[number]

export const EXTENSION_OF: Readonly<Record<AudioMediaType, string>> = {
  'audio/wav': 'wav',
  'audio/webm': 'webm',
  'audio/ogg': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
}

const ascii = (bytes: Uint8Array, at: number, text: string) =>
  bytes.length >= at + text.length && [...text].every((c, i) => bytes[at + i] === c.charCodeAt(0))

/** An MPEG audio frame header: 11 sync bits, a known version and layer, a usable bitrate and rate. */
function isMpegFrame(b: Uint8Array, at = 0): boolean {
  if (b.length < at + 4 || b[at] !== 0xff || (b[at + 1]! & 0xe0) !== 0xe0) return false
  const version = (b[at + 1]! >> 3) & 0x3
  const layer = (b[at + 1]! >> 1) & 0x3
  const bitrate = b[at + 2]! >> 4
  const rate = (b[at + 2]! >> 2) & 0x3
  return version !== 1 && layer !== 0 && bitrate !== 0 && bitrate !== 15 && rate !== 3
}

/** The container of a recording from its first bytes (at least 12; 4 KiB is plenty), or null. */
export function sniffAudio(head: Uint8Array): AudioMediaType | null {
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WAVE')) return 'audio/wav'
  if (head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) return 'audio/webm' // EBML (WebM/Matroska)
  if (ascii(head, 0, 'OggS')) return 'audio/ogg'
  if (ascii(head, 4, 'ftyp')) return 'audio/mp4' // ISO base media (m4a, mp4 audio)
  if (ascii(head, 0, 'ID3') || isMpegFrame(head)) return 'audio/mpeg'
  return null
}

/**
 * A WAV file whose chunks claim more bytes than the file holds was cut off (a decoder would read
 * what is there without complaint). Walks the RIFF chunks in `head` up to the `data` chunk; true
 * when that chunk ends past `fileBytes`. Streaming WAVs that write 0 or 0xFFFFFFFF as the size are not truncated.
 */
export function wavIsTruncated(head: Uint8Array, fileBytes: number): boolean {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength)
  let at = 12
  while (at + 8 <= head.length) {
    const size = view.getUint32(at + 4, true)
    if (ascii(head, at, 'data')) return size !== 0 && size !== 0xffffffff && at + 8 + size > fileBytes
    at += 8 + size + (size % 2)
  }
  return at > fileBytes // the chunks before `data` already run past the end
}
