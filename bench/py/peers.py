"""The bench's Python peers: evloop's workloads written the way an asyncio programmer writes them.

`cargo bench -p evloop-bench --bench compare` starts this script once per run (see
bench/benches/compare/python.rs), in the venv that scripts/py_peers.sh makes, and reads the one
JSON line it prints: `{"workload": ..., "loop": ..., "n": ..., "values": [...]}`, the values in
the order of the Rust workload's rows (`null` where this side measures nothing).

Run by hand with:
    python bench/py/peers.py --loop uvloop --workload ping_pong --n 100000

Each body below mirrors the Rust one in compare.rs's `workloads!` (or compare/http.rs's
`http_workloads!`): the same N, the same shape, the same fixed-seed random delays, the clock
started inside the running loop so that building the loop is not timed. `--loop asyncio` runs
it on the standard library's default loop (`asyncio.run`), `--loop uvloop` on uvloop's
(`uvloop.run`), which replaces the loop only: tasks, futures, `asyncio.sleep` and
`asyncio.Semaphore` are the same Python code on both.
"""

import argparse
import asyncio
import ctypes
import gc
import json
import os
import resource
import sys
import time
import tracemalloc

# ---------------------------------------------------------------------------------------------
# Shared by the workloads
# ---------------------------------------------------------------------------------------------


def ns_per_op(start_ns, ops):
    """Nanoseconds per operation since `start_ns` (a `time.perf_counter_ns()` reading)."""
    return (time.perf_counter_ns() - start_ns) / ops


def random_delays_us(n, low_us, high_us):
    """`n` delays in microseconds, uniform over `low_us..=high_us`: compare.rs's `random_delays`,
    the same xorshift64 from the same seed, so both languages get the same sequence."""
    mask = (1 << 64) - 1
    span = high_us - low_us + 1
    state = 0x9E3779B97F4A7C15
    delays = []
    for _ in range(n):
        state ^= (state << 13) & mask
        state ^= state >> 7
        state ^= (state << 17) & mask
        delays.append(low_us + state % span)
    return delays


def fire_report(loop_name, start_ns, lateness_ns):
    """`timer_fire`'s rows: total ms, then p99, max, min and median lateness in µs. Shouts if any
    woke early, as compare.rs's `fire_report` does."""
    total_ms = (time.perf_counter_ns() - start_ns) / 1e6
    lateness_ns.sort()
    early = sum(1 for late in lateness_ns if late < 0)
    if early:
        print(
            f"\n!!! EARLY: {loop_name} woke {early} of {len(lateness_ns)} sleepers before their "
            f"deadline (earliest by {-lateness_ns[0]} ns) !!!",
            file=sys.stderr,
        )
    p99 = lateness_ns[-(-len(lateness_ns) * 99 // 100) - 1]
    median = lateness_ns[len(lateness_ns) // 2]
    return [total_ms, p99 / 1e3, lateness_ns[-1] / 1e3, lateness_ns[0] / 1e3, median / 1e3]


# ---------------------------------------------------------------------------------------------
# The runtime workloads
# ---------------------------------------------------------------------------------------------


async def empty():
    pass


async def spawn_join(n):
    """Spawn `n` empty tasks, then await every one in order."""
    tasks = [None] * n  # allocated before the clock starts, like the Rust side's Vec
    start = time.perf_counter_ns()
    for i in range(n):
        tasks[i] = asyncio.create_task(empty())
    for task in tasks:
        await task
    return [ns_per_op(start, n)]


async def yielder(n):
    for _ in range(n):
        await asyncio.sleep(0)  # asyncio's yield_now: back to the loop's ready queue


async def yield_many(n):
    """One spawned task yields `n` times."""
    start = time.perf_counter_ns()
    await asyncio.create_task(yielder(n))
    return [ns_per_op(start, n)]


async def player(turns, me, passes):
    """One side of `ping_pong`: wait for my turn, pass it to the other side, `passes` times.
    `turns[i]` is set while it is side i's turn; `Event.wait` parks on a future that the other
    side's `set` resolves."""
    mine, theirs = turns[me], turns[1 - me]
    for _ in range(passes):
        await mine.wait()
        mine.clear()
        theirs.set()


async def ping_pong(n):
    """Two tasks pass a token back and forth: `n` hand-offs in all."""
    turns = (asyncio.Event(), asyncio.Event())
    turns[0].set()
    start = time.perf_counter_ns()
    ping = asyncio.create_task(player(turns, 0, n // 2))
    pong = asyncio.create_task(player(turns, 1, n // 2))
    await ping
    await pong
    return [ns_per_op(start, max(n // 2 * 2, 1))]


def never_called():
    raise AssertionError("timer_cancel's timers are all cancelled before they are due")


async def timer_cancel(n):
    """Register `n` timers of 1-10 s, then cancel them all. The Rust side creates `n` sleeps,
    polls each once (which registers its timer) and drops them (which cancels it); in asyncio a
    sleep's timer is `loop.call_later`, and cancelling is its handle's `cancel()`. asyncio's loop
    removes cancelled timers from its heap lazily, at the top of its next iteration; the one
    `sleep(0)` at the end lets that iteration run inside the window, so the removal is paid for
    here as the Rust runtimes pay for theirs. (uvloop removes each timer inside `cancel()`.)"""
    loop = asyncio.get_running_loop()
    delays = [us / 1e6 for us in random_delays_us(n, 1_000_000, 10_000_000)]
    handles = [None] * n
    start = time.perf_counter_ns()
    for i, delay in enumerate(delays):
        handles[i] = loop.call_later(delay, never_called)
    for handle in handles:
        handle.cancel()
    handles.clear()
    await asyncio.sleep(0)
    return [ns_per_op(start, n)]


async def sleeper(delay_ns):
    deadline = time.monotonic_ns() + delay_ns  # CLOCK_MONOTONIC, as Rust's Instant
    await asyncio.sleep(delay_ns / 1e9)
    return time.monotonic_ns() - deadline


async def timer_fire(n, window_ms, loop_name):
    """`n` tasks each sleep 0-`window_ms` ms from their first step; each reports how late it
    woke, in ns (negative: early). `asyncio.sleep(d)` schedules at `loop.time() + d`, read after
    the deadline above, so a stale loop clock is the only way to wake early."""
    delays = random_delays_us(n, 0, window_ms * 1000)
    tasks = [None] * n
    start = time.perf_counter_ns()
    for i, delay_us in enumerate(delays):
        tasks[i] = asyncio.create_task(sleeper(delay_us * 1000))
    lateness = [await task for task in tasks]
    return fire_report(loop_name, start, lateness)


async def holder(semaphore):
    async with semaphore:
        await asyncio.sleep(0)


async def semaphore(n):
    """`n` tasks pass through a semaphore of 10 permits, yielding once while holding one."""
    sem = asyncio.Semaphore(10)
    tasks = [None] * n
    start = time.perf_counter_ns()
    for i in range(n):
        tasks[i] = asyncio.create_task(holder(sem))
    for task in tasks:
        await task
    return [ns_per_op(start, n)]


PARKED = 0


async def parked_sleeper():
    global PARKED
    PARKED += 1
    await asyncio.sleep(3600)


def resident_bytes():
    """The resident set size, from /proc/self/statm (its second field, in pages)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def give_memory_back():
    """Collects garbage and returns free pages to the OS, so that earlier garbage does not hide
    this window's growth (compare.rs calls `malloc_trim` for the same reason)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: pymalloc still returns its empty arenas


async def park(tasks):
    """Fills `tasks` with tasks each parked on an hour-long sleep; returns once all are parked."""
    global PARKED
    PARKED = 0
    for i in range(len(tasks)):
        tasks[i] = asyncio.create_task(parked_sleeper())
    while PARKED < len(tasks):
        await asyncio.sleep(0)


async def cancel_all(tasks):
    """Cancels every task, then waits until each has finished (untimed)."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def memory(n):
    """`n` tasks each parked on an hour-long sleep: heap bytes and resident bytes per task.

    Two passes over the same workload, because one instrument disturbs the other. Resident bytes
    first, with nothing traced. Heap bytes second, under `tracemalloc`, which records every
    allocation made through Python's allocators (objects, and the raw domain uvloop allocates
    its libuv timer handles from) at the size asked for, as compare.rs's counting allocator
    counts Rust's: live bytes at the end minus live bytes at the start. tracemalloc's own
    bookkeeping is not in that figure, but it is resident, so it would inflate the first."""
    tasks = [None] * n  # allocated outside both windows, like the Rust side's Vec of handles
    give_memory_back()
    before = resident_bytes()
    await park(tasks)
    rss = (resident_bytes() - before) / n
    await cancel_all(tasks)

    tasks[:] = [None] * n
    give_memory_back()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    await park(tasks)
    heap = (tracemalloc.get_traced_memory()[0] - before) / n
    tracemalloc.stop()
    await cancel_all(tasks)
    return [heap, rss]


# ---------------------------------------------------------------------------------------------
# The HTTP workloads (aiohttp's client against the bench's nginx)
# ---------------------------------------------------------------------------------------------



def thread_cpu_ns():
    """User and system CPU time of this thread (`getrusage(RUSAGE_THREAD)`), as compare/cost.rs
    reads the bench thread's. aiohttp resolves no name for an IP-address URL, so no helper
    thread does work this one should be charged for."""
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return usage.ru_utime * 1e9, usage.ru_stime * 1e9


class Meter:
    """Wall clock and this thread's CPU time over a window (compare/http.rs's `Meter`). System
    calls are not counted on this side: that row is `null`."""

    def __init__(self):
        self.cpu = thread_cpu_ns()
        self.wall = time.perf_counter_ns()

    def per_request(self, requests):
        wall = time.perf_counter_ns() - self.wall
        user, system = thread_cpu_ns()
        user -= self.cpu[0]
        system -= self.cpu[1]
        return [wall / requests, (user + system) / requests, user / requests, None]


async def get(session, url):
    """GET `url`, read the whole body, and insist it is nginx's /hello.txt (25 bytes)."""
    async with session.get(url) as response:
        body = await response.read()
    if response.status != 200 or len(body) != 25:
        raise RuntimeError(f"GET {url} gave status {response.status} with {len(body)} bytes, not 200 with 25")
    return len(body)


async def http_seq(url, n):
    """One session, one keep-alive connection (opened by an untimed first GET), `n` GETs."""
    import aiohttp  # here, so the runtime workloads do not pay for importing it

    async with aiohttp.ClientSession() as session:
        await get(session, url)
        meter = Meter()
        for _ in range(n):
            await get(session, url)
        return meter.per_request(n)


async def get_from_every_task(session, url, connections, each):
    async def one_task():
        for _ in range(each):
            await get(session, url)

    tasks = [asyncio.create_task(one_task()) for _ in range(connections)]
    for task in tasks:
        await task


async def http_conc(url, n, connections):
    """`connections` tasks (compare/http.rs's, 100 unless `--conns`), each doing
    `n / connections` GETs one after the other, over a connector that keeps all of them
    (aiohttp's default limit is 100 in all, none per host; it is set to `connections` here)."""
    import aiohttp

    each = max(n // connections, 1)
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        await get_from_every_task(session, url, connections, 1)  # connects, untimed
        meter = Meter()
        await get_from_every_task(session, url, connections, each)
        return meter.per_request(each * connections)


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------

WORKLOADS = {
    "spawn_join": lambda a: spawn_join(a.n),
    "yield": lambda a: yield_many(a.n),
    "ping_pong": lambda a: ping_pong(a.n),
    "timer_cancel": lambda a: timer_cancel(a.n),
    "timer_fire": lambda a: timer_fire(a.n, a.fire_window_ms, a.loop),
    "semaphore": lambda a: semaphore(a.n),
    "memory": lambda a: memory(a.n),
    "http_seq": lambda a: http_seq(a.url, a.n),
    "http_conc": lambda a: http_conc(a.url, a.n, a.conns),
}


def main():
    parser = argparse.ArgumentParser(description="One run of one bench workload on asyncio or uvloop.")
    parser.add_argument("--versions", action="store_true", help="print the versions in use and exit")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"])
    parser.add_argument("--workload", choices=sorted(WORKLOADS))
    parser.add_argument("--n", type=int, default=0, help="operations (tasks, yields, hand-offs, timers, GETs)")
    parser.add_argument("--fire-window-ms", type=int, default=1000, help="timer_fire's deadlines: 0..=this")
    parser.add_argument("--url", default="", help="what the HTTP workloads GET")
    parser.add_argument("--conns", type=int, default=100, help="http_conc's connections (and tasks)")
    args = parser.parse_args()
    if args.versions:
        import aiohttp
        import uvloop

        print(f"CPython {sys.version.split()[0]}, uvloop {uvloop.__version__}, aiohttp {aiohttp.__version__}")
        return
    if args.loop is None or args.workload is None:
        parser.error("--loop and --workload are required")
    if args.n <= 0 or args.conns <= 0:
        parser.error("--n and --conns must be positive")
    if args.workload.startswith("http") and not args.url:
        parser.error(f"{args.workload} needs --url")

    workload = WORKLOADS[args.workload](args)
    if args.loop == "uvloop":
        import uvloop

        values = uvloop.run(workload)
    else:
        values = asyncio.run(workload)
    print(json.dumps({"workload": args.workload, "loop": args.loop, "n": args.n, "values": values}))


if __name__ == "__main__":
    main()
