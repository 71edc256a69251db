import threading

from checkout import locks


def test_threads_asking_at_once_for_the_first_time_share_one_client(monkeypatch):
    # given: a process that has made no client yet, and 64 threads asking at the same moment
    monkeypatch.setattr(locks, "_client", None)
    barrier = threading.Barrier(64)
    clients = []

    def ask() -> None:
        barrier.wait()
        clients.append(locks.redis_client())

    threads = [threading.Thread(target=ask) for _ in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then: one client, kept, so that no pool is collected under a pipeline that uses it
    assert len({id(client) for client in clients}) == 1
    assert locks.redis_client() is clients[0]
