"""Raw arq: how fast one worker with the grader's settings (max_jobs 10, JSON serializer) runs no-op jobs.

Usage (in the worker's environment): python arq_noop.py <redis url> <jobs> <poll delay seconds>
Prints one JSON line: jobs/s for a burst, and enqueue -> finished latency of single jobs at rest.
"""

import asyncio
import json
import sys
import time

from arq import Worker, create_pool
from arq.connections import RedisSettings


async def noop(ctx: dict[str, object]) -> None:
    return None


async def main(url: str, jobs: int, poll_delay: float) -> None:
    settings = RedisSettings.from_dsn(url)
    pool = await create_pool(settings, default_queue_name="bench:noop")
    await pool.delete("bench:noop")
    for i in range(jobs):
        await pool.enqueue_job("noop", _job_id=f"noop-{poll_delay}-{i}", _queue_name="bench:noop")
    worker = Worker(
        functions=[noop],
        redis_pool=pool,
        queue_name="bench:noop",
        max_jobs=10,
        poll_delay=poll_delay,
        burst=True,
        handle_signals=False,
        keep_result=0,
    )
    started = time.perf_counter()
    await worker.async_run()
    rate = jobs / (time.perf_counter() - started)
    # Single jobs at rest: a worker polling every poll_delay, one job enqueued at a random moment.
    live = Worker(functions=[noop], redis_pool=pool, queue_name="bench:noop", max_jobs=10, poll_delay=poll_delay, handle_signals=False, keep_result=60)
    task = asyncio.create_task(live.async_run())
    latencies = []
    for i in range(40):
        await asyncio.sleep(poll_delay * ((i * 7919) % 100) / 100)
        t0 = time.perf_counter()
        job = await pool.enqueue_job("noop", _job_id=f"single-{poll_delay}-{i}", _queue_name="bench:noop")
        assert job is not None
        await job.result(poll_delay=0.001)
        latencies.append((time.perf_counter() - t0) * 1000)
    task.cancel()
    await live.close()
    latencies.sort()
    print(json.dumps({
        "jobs": jobs,
        "poll_delay": poll_delay,
        "jobs_per_second": round(rate, 1),
        "single_job_latency_p50_ms": round(latencies[len(latencies) // 2], 1),
        "single_job_latency_p99_ms": round(latencies[-1], 1),
    }))
    await pool.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
