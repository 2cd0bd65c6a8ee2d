#!/usr/bin/env python3
"""kafka_txn_copier.py - a port of Kafka's transactions_test (TransactionalMessageCopier) to
weir, with kill -9.

  copier BOOTSTRAP PARTITION      one copier: reads partition P of `in` (read_committed, from the
                                  group's committed offset), writes each record to partition P
                                  of `out` in transactions of 200 with the input offsets; exits 0
                                  once it has copied the whole partition, 3 on any error
  watch BOOTSTRAP FILE            a concurrent read_committed reader of `out`: appends every
                                  value it receives to FILE (one a line) until killed
  check BOOTSTRAP N WATCHFILE     `out` equals `in` record for record per partition (no loss, no
                                  duplicate, order kept) and the concurrent reader saw no
                                  duplicate and nothing that is not in `in`
"""
import os
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

TXN_SIZE = 200
GROUP = 'txn-copier'
PAUSE = float(os.environ.get('COPIER_PAUSE', '0.25'))


def consumer(bootstrap, group, isolation='read_committed'):
    return Consumer({'bootstrap.servers': bootstrap, 'group.id': group,
                     'enable.auto.commit': False, 'isolation.level': isolation,
                     'auto.offset.reset': 'earliest', 'socket.timeout.ms': 5000})


def copier(bootstrap, part):
    src = consumer(bootstrap, GROUP)
    tp = TopicPartition('in', part)
    committed = src.committed([tp], timeout=30)[0].offset
    start = committed if committed >= 0 else 0
    _, end = src.get_watermark_offsets(tp, timeout=30, cached=False)
    src.assign([TopicPartition('in', part, start)])
    p = Producer({'bootstrap.servers': bootstrap, 'transactional.id': 'copier-%d' % part,
                  'transaction.timeout.ms': 10000, 'linger.ms': 5,
                  'message.timeout.ms': 10000, 'socket.timeout.ms': 5000})
    p.init_transactions(30)
    pos = start
    while pos < end:
        p.begin_transaction()
        n = 0
        deadline = time.time() + 10
        while n < TXN_SIZE and pos < end and time.time() < deadline:
            m = src.poll(0.5)
            if m is None or m.error():
                continue
            p.produce('out', key=m.key(), value=m.value(), partition=part)
            pos = m.offset() + 1
            n += 1
        if n == 0:
            raise RuntimeError('no input for 10 s at offset %d' % pos)
        time.sleep(PAUSE)  # mid-transaction: where the kills should find it
        p.send_offsets_to_transaction([TopicPartition('in', part, pos)],
                                      src.consumer_group_metadata(), 30)
        p.commit_transaction(30)
        print('copier %d: committed up to %d of %d' % (part, pos, end), flush=True)
    src.close()


def watch(bootstrap, path):
    c = consumer(bootstrap, 'txn-watch-%d' % os.getpid())
    c.assign([TopicPartition('out', p, 0) for p in range(2)])
    with open(path, 'a') as f:
        while True:
            m = c.poll(0.5)
            if m is not None and not m.error():
                f.write(m.value().decode() + '\n')
                f.flush()


def read_all(bootstrap, topic, n, isolation='read_committed'):
    c = consumer(bootstrap, 'txn-check-%d' % os.getpid(), isolation)
    c.assign([TopicPartition(topic, p, 0) for p in range(2)])
    parts = {0: [], 1: []}
    got, last = 0, time.time()
    while time.time() - last < 5 and got < n:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        parts[m.partition()].append(m.value().decode())
        got += 1
        last = time.time()
    while True:  # anything beyond n (a duplicate) shows up within a second
        m = c.poll(1.0)
        if m is None:
            break
        if not m.error():
            parts[m.partition()].append(m.value().decode())
    c.close()
    return parts


def check(bootstrap, n, watchfile):
    src = read_all(bootstrap, 'in', n, 'read_uncommitted')
    out = read_all(bootstrap, 'out', n)
    assert sum(len(v) for v in src.values()) == n, {k: len(v) for k, v in src.items()}
    for p in (0, 1):
        if out[p] != src[p]:
            dups = len(out[p]) - len(set(out[p]))
            missing = len(set(src[p]) - set(out[p]))
            raise AssertionError('partition %d: output differs from input (%d in, %d out, %d '
                                 'duplicates, %d missing)' % (p, len(src[p]), len(out[p]), dups,
                                                              missing))
    seen = open(watchfile).read().split()
    assert len(seen) == len(set(seen)), 'the concurrent reader saw %d duplicates' % (
        len(seen) - len(set(seen)))
    allin = set(src[0]) | set(src[1])
    assert set(seen) <= allin, 'the concurrent reader saw records not in the input'
    assert len(seen) == n, 'the concurrent reader saw %d of %d records' % (len(seen), n)
    print('check: %d records copied exactly once, in order; the concurrent reader saw %d, no '
          'duplicate' % (n, len(seen)))


if __name__ == '__main__':
    cmd, bootstrap = sys.argv[1], sys.argv[2]
    try:
        if cmd == 'copier':
            copier(bootstrap, int(sys.argv[3]))
        elif cmd == 'watch':
            watch(bootstrap, sys.argv[3])
        else:
            check(bootstrap, int(sys.argv[3]), sys.argv[4])
    except (KafkaException, RuntimeError) as e:
        if cmd == 'check':
            raise
        print('%s: %s' % (cmd, e), flush=True)
        os._exit(3)
