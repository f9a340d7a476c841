/**
 * A small command line over the TypeScript arq producer, used by the cross-language tests
 * (workers/grader-py/tests) and handy for operators:
 *   bun scripts/arq-cli.ts enqueue <function> <job-id> '<kwargs-json>' [queue]
 *   bun scripts/arq-cli.ts status <job-id> [queue]
 *   bun scripts/arq-cli.ts result <job-id>
 * REDIS_URL selects the server. Output is one JSON line.
 */
import { RedisClient } from 'bun'
import { enqueueJob, jobResult, jobStatus } from '../src/queue/arq'

const redis = new RedisClient(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
const [command, ...rest] = process.argv.slice(2)
try {
  if (command === 'enqueue') {
    const [fn, id, kwargs, queue] = rest
    if (!fn || !id) throw new Error('enqueue needs <function> <job-id>')
    const queued = await enqueueJob(redis, fn, [], JSON.parse(kwargs ?? '{}') as Record<string, unknown>, {
      jobId: id,
      ...(queue ? { queueName: queue } : {}),
    })
    console.log(JSON.stringify({ enqueued: queued !== null, id }))
  } else if (command === 'status') {
    const [id, queue] = rest
    if (!id) throw new Error('status needs <job-id>')
    console.log(JSON.stringify({ status: await jobStatus(redis, id, queue) }))
  } else if (command === 'result') {
    const [id] = rest
    if (!id) throw new Error('result needs <job-id>')
    console.log(JSON.stringify({ result: await jobResult(redis, id) }))
  } else {
    throw new Error('usage: arq-cli.ts enqueue|status|result ...')
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error))
  process.exitCode = 2
} finally {
  redis.close()
}
