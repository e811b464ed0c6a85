"""Awaiting inside coroutine callbacks (``async def``) run by a node's single-threaded executor.

A node whose long callback waits on other nodes (a service answer, an action result) would
otherwise need a ``MultiThreadedExecutor`` and a thread blocked per wait: every answer then
crosses threads twice and the executor's Python loop fights the waiting thread for the GIL. As a
coroutine, the callback yields to the executor while it waits and is resumed by the same
thread that took the answer. These helpers add what rclpy's awaitable futures lack: a timeout
(by the wall clock, so a stopped simulator cannot stall it), a sleep, and polling a condition.
"""

from __future__ import annotations

from typing import Callable

_STEADY = None


def _steady_clock():
    global _STEADY
    if _STEADY is None:
        from rclpy.clock import Clock, ClockType

        _STEADY = Clock(clock_type=ClockType.STEADY_TIME)
    return _STEADY


async def result_within(node, future, timeout_s: float):
    """``future``'s result, or None when it is not done within ``timeout_s`` wall seconds.

    Raises what the future raises (e.g. a failed service call).
    """
    from rclpy.task import Future

    if not future.done():
        woken = Future()

        def wake(*_args) -> None:
            if not woken.done():
                woken.set_result(None)

        future.add_done_callback(wake)
        timer = node.create_timer(max(float(timeout_s), 1e-6), wake, clock=_steady_clock())
        try:
            await woken
        finally:
            timer.cancel()
            node.destroy_timer(timer)
    return future.result() if future.done() else None


async def sleep(node, seconds: float) -> None:
    """Yield to the executor for ``seconds`` wall seconds."""
    from rclpy.task import Future

    await result_within(node, Future(), seconds)


async def ready_within(node, is_ready: Callable[[], bool], timeout_s: float, poll_s: float = 0.01) -> bool:
    """Whether ``is_ready()`` turns true within ``timeout_s`` wall seconds, checked every ``poll_s``.

    For ``client.service_is_ready`` / ``action_client.server_is_ready``: rclpy's own
    ``wait_for_service`` blocks the thread and checks only every 0.25 s.
    """
    import time

    deadline = time.monotonic() + float(timeout_s)
    while not is_ready():
        if time.monotonic() >= deadline or not node.context.ok():
            return bool(is_ready())
        await sleep(node, poll_s)
    return True
