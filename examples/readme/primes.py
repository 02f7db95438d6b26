import gi
gi.require_version('Pmt', '1.0')
from gi.repository import Pmt


def count_primes(block):
    start = block * 20000
    return sum(all(n % d for d in range(2, int(n ** 0.5) + 1))
               for n in range(max(start, 2), start + 20000))


if __name__ == '__main__':          # process pools import this file again
    with Pmt.ProcessPool(maxWorkers=2) as pool:    # or Pmt.ThreadPool: same API
        tasks = [pool.submit(count_primes, block) for block in range(8)]
        for task in Pmt.Pool.as_completed(tasks):
            print('block', tasks.index(task), 'has', task.results, 'primes')
        total = sum(task.results for task in tasks)
    print(total, 'primes below 160000')
    raise SystemExit(0 if total == 14683 else 1)
