import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { join } from 'node:path'
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, importSPKI, type CryptoKey, type JWK } from 'jose'
import type { Config } from '../config'
import { log } from '../platform/logger'

export const ACCESS_TOKEN_ALG = 'EdDSA'

export type VerificationKey = { kid: string; publicKey: CryptoKey }
/** The key that signs new access tokens, plus every key whose tokens are still accepted. */
export type SigningKeys = { current: VerificationKey & { privateKey: CryptoKey }; accepted: VerificationKey[] }

async function kidOf(publicKey: CryptoKey): Promise<string> {
  return (await calculateJwkThumbprint(await exportJWK(publicKey))).slice(0, 16)
}

export async function generateSigningKeys(): Promise<SigningKeys> {
  const { privateKey, publicKey } = await generateKeyPair(ACCESS_TOKEN_ALG, { extractable: true, crv: 'Ed25519' })
  const current = { kid: await kidOf(publicKey), privateKey, publicKey }
  return { current, accepted: [current] }
}

async function fromPem(privatePem: string, kid?: string) {
  const privateKey = await importPKCS8(privatePem, ACCESS_TOKEN_ALG)
  const spki = createPublicKey(createPrivateKey(privatePem)).export({ type: 'spki', format: 'pem' }).toString()
  const publicKey = await importSPKI(spki, ACCESS_TOKEN_ALG, { extractable: true })
  return { kid: kid ?? (await kidOf(publicKey)), privateKey, publicKey }
}

/**
 * Keys from configuration; in development a key pair is generated once and kept under DEV_KEY_DIR
 * (git-ignored), so tokens survive restarts without a secret in the repository.
 */
export async function loadSigningKeys(config: Config): Promise<SigningKeys> {
  let privatePem = config.JWT_PRIVATE_KEY?.replaceAll('\\n', '\n')
  if (!privatePem) {
    const file = join(config.DEV_KEY_DIR, 'access-token-ed25519.pem')
    if (!existsSync(file)) {
      mkdirSync(config.DEV_KEY_DIR, { recursive: true })
      const { privateKey } = await generateKeyPair(ACCESS_TOKEN_ALG, { extractable: true, crv: 'Ed25519' })
      writeFileSync(file, await exportPKCS8(privateKey), { mode: 0o600 })
      log.info({ file }, 'generated a development signing key')
    }
    privatePem = readFileSync(file, 'utf8')
  }
  const current = await fromPem(privatePem, config.JWT_KEY_ID)
  const accepted: VerificationKey[] = [current]
  if (config.JWT_PREVIOUS_PUBLIC_KEY) {
    const publicKey = await importSPKI(config.JWT_PREVIOUS_PUBLIC_KEY.replaceAll('\\n', '\n'), ACCESS_TOKEN_ALG)
    accepted.push({ kid: config.JWT_PREVIOUS_KEY_ID ?? (await kidOf(publicKey)), publicKey })
  }
  return { current, accepted }
}

/** The public JWK set published at /.well-known/jwks.json. */
export async function publicJwks(keys: SigningKeys): Promise<{ keys: JWK[] }> {
  return {
    keys: await Promise.all(
      keys.accepted.map(async (k) => ({ ...(await exportJWK(k.publicKey)), kid: k.kid, alg: ACCESS_TOKEN_ALG, use: 'sig' })),
    ),
  }
}
