/**
 * A real S3-compatible server for tests that CHECKS SigV4 signatures: moto's server (installed from
 * PyPI with the worker's dev dependencies) on a free port. By default moto accepts any signature, so
 * a broken signer would pass; here it recomputes every request's signature with botocore's signer
 * against its own IAM users' secrets and refuses a mismatch with 403 SignatureDoesNotMatch.
 *
 * Setup, while moto still lets unsigned requests through: create an IAM user, an access key and an
 * s3:* policy, and the bucket; then POST /moto-api/reset-auth with 0, after which every S3 request
 * must be signed with that key (moto/core/authorization.py, moto/iam/access_control.py).
 */
import { join } from 'node:path'
import { type Service, startService, WORKER_DIR, waitFor } from './processes'
import { freePort } from './redis-server'

export type SigningS3 = { endpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string }

// moto routes a request by the service in the Authorization header's credential scope; before auth
// is enforced the signature itself is not looked at.
const IAM_SETUP_AUTH = 'AWS4-HMAC-SHA256 Credential=setup/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0'

async function iam(endpoint: string, action: string, params: Record<string, string>): Promise<string> {
  const res = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: { authorization: IAM_SETUP_AUTH, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ Action: action, Version: '2010-05-08', ...params }),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`IAM ${action} answered ${res.status}: ${text}`)
  return text
}

const xmlValue = (xml: string, tag: string) => {
  const value = new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(xml)?.[1]
  if (!value) throw new Error(`no <${tag}> in ${xml}`)
  return value
}

export async function startSigningS3(services: Service[], options: { cwd: string; bucket: string }): Promise<SigningS3> {
  const port = freePort()
  const endpoint = `http://127.0.0.1:${port}`
  services.push(
    startService('s3', [join(WORKER_DIR, '.venv/bin/moto_server'), '-H', '127.0.0.1', '-p', String(port)], {
      cwd: options.cwd,
      env: {},
    }),
  )
  await waitFor('the S3 server', async () => ((await fetch(`${endpoint}/`)).ok ? true : undefined), 60_000, services)

  await iam(endpoint, 'CreateUser', { UserName: 'vstep-audio' })
  const key = await iam(endpoint, 'CreateAccessKey', { UserName: 'vstep-audio' })
  const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }
  await iam(endpoint, 'PutUserPolicy', { UserName: 'vstep-audio', PolicyName: 's3', PolicyDocument: JSON.stringify(policy) })
  const bucket = await fetch(`${endpoint}/${options.bucket}`, { method: 'PUT' })
  if (bucket.status !== 200) throw new Error(`creating the bucket answered ${bucket.status}`)

  const enforce = await fetch(`${endpoint}/moto-api/reset-auth`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: '0',
  })
  if (!enforce.ok) throw new Error(`enabling signature checks answered ${enforce.status}: ${await enforce.text()}`)

  return {
    endpoint,
    bucket: options.bucket,
    region: 'us-east-1',
    accessKeyId: xmlValue(key, 'AccessKeyId'),
    secretAccessKey: xmlValue(key, 'SecretAccessKey'),
  }
}
