"""Coroutine callbacks on a single-threaded executor: awaiting a service answer, timeouts, sleeping, polling."""

import os
import threading
import time

import pytest

pytest.importorskip("robotracer.msg", reason="ROS interfaces not built")


@pytest.fixture
def executor():
    os.environ["ROS_DOMAIN_ID"] = str(170 + os.getpid() % 30)
    from robotracer.ros.node_runtime import configure_environment

    configure_environment()
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    rclpy.init()
    ex = SingleThreadedExecutor()
    spinner = threading.Thread(target=ex.spin, daemon=True)
    try:
        yield ex, spinner
    finally:
        ex.shutdown(timeout_sec=1.0)
        rclpy.try_shutdown()


def run_coroutine(ex, spinner, coroutine_fn, timeout=10.0):
    """Run ``coroutine_fn()`` as a task on ``ex`` (spun in ``spinner``) and return its result."""
    task = ex.create_task(coroutine_fn)
    if not spinner.is_alive():
        spinner.start()
    deadline = time.monotonic() + timeout
    while not task.done() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert task.done(), "the coroutine never finished"
    return task.result()


def test_a_coroutine_awaits_a_service_answer_while_the_same_thread_serves_it(executor):
    import rclpy
    from std_srvs.srv import Trigger

    from robotracer.ros.coroutines import ready_within, result_within

    ex, spinner = executor
    node = rclpy.create_node("coroutine_caller")
    ex.add_node(node)
    served_by = []

    def serve(_request, response):
        served_by.append(threading.get_ident())
        response.success, response.message = True, "served"
        return response

    node.create_service(Trigger, "/coroutine_test/trigger", serve)
    client = node.create_client(Trigger, "/coroutine_test/trigger")

    async def call():
        assert await ready_within(node, client.service_is_ready, 10.0)
        response = await result_within(node, client.call_async(Trigger.Request()), 5.0)
        return response, threading.get_ident()

    response, caller_thread = run_coroutine(ex, spinner, call)
    assert response.success and response.message == "served"
    assert served_by == [caller_thread]  # one thread: the service ran while the caller was suspended


def test_result_within_times_out_by_the_wall_clock_and_sleep_sleeps(executor):
    import rclpy
    from rclpy.task import Future

    from robotracer.ros.coroutines import ready_within, result_within, sleep

    ex, spinner = executor
    node = rclpy.create_node("coroutine_timer")
    ex.add_node(node)

    async def waits():
        t0 = time.monotonic()
        never = await result_within(node, Future(), 0.2)
        t1 = time.monotonic()
        await sleep(node, 0.1)
        t2 = time.monotonic()
        done = Future()
        done.set_result(42)
        t3 = time.monotonic()
        flag = []
        node.create_timer(0.05, lambda: flag.append(True))
        became_ready = await ready_within(node, lambda: bool(flag), 5.0)
        t4 = time.monotonic()
        not_ready = await ready_within(node, lambda: False, 0.05)
        return never, t1 - t0, t2 - t1, await result_within(node, done, 0.0), t3, became_ready, t4 - t3, not_ready

    never, waited, slept, answer, _t3, became_ready, ready_after, not_ready = run_coroutine(ex, spinner, waits)
    assert never is None and 0.19 <= waited < 2.0
    assert 0.09 <= slept < 2.0
    assert answer == 42  # a done future answers at once, even with no time left
    assert became_ready and ready_after < 1.0  # polled every 10 ms, not rclpy's 0.25 s
    assert not_ready is False
    assert [t.timer_period_ns for t in node.timers] == [50_000_000]  # the helpers' own timers are gone
