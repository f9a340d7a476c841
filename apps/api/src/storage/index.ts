import type { Config } from '../config'
import { LocalAudioStorage } from './local'
import { S3AudioStorage } from './s3'
import type { AudioStorage } from './types'

export type { AudioStorage, ByteRange } from './types'

/** The backend AUDIO_STORAGE names (validated with the rest of the configuration). */
export function createAudioStorage(config: Config): AudioStorage {
  if (config.AUDIO_STORAGE === 's3') {
    return new S3AudioStorage({
      endpoint: config.S3_ENDPOINT!,
      bucket: config.S3_BUCKET!,
      region: config.S3_REGION,
      accessKeyId: config.S3_ACCESS_KEY_ID!,
      secretAccessKey: config.S3_SECRET_ACCESS_KEY!,
    })
  }
  return new LocalAudioStorage(config.AUDIO_DIR)
}
