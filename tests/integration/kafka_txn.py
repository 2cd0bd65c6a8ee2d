#!/usr/bin/env python3
"""kafka_txn.py BOOTSTRAP - Kafka transactions against weir with python3-confluent-kafka
(librdkafka): commit and abort interleaved over two topics, read_committed against
read_uncommitted readers, the last stable offset holding back a reader behind an open
transaction, fencing a zombie producer, send_offsets_to_transaction visible only on commit, and
a transaction timeout aborting a stuck transaction."""
import sys
import time
import uuid

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap = sys.argv[1]
http_port = sys.argv[2] if len(sys.argv) > 2 else None
admin = AdminClient({'bootstrap.servers': bootstrap})
for f in admin.create_topics([NewTopic(t, num_partitions=2, replication_factor=1)
                              for t in ('tx-a', 'tx-b', 'tx-in', 'tx-out', 'tx-lso')] +
                             [NewTopic('tx-sql', num_partitions=1, replication_factor=1)]).values():
    f.result(timeout=30)


def producer(txn_id, **extra):
    conf = {'bootstrap.servers': bootstrap, 'transactional.id': txn_id,
            'partitioner': 'murmur2_random', 'linger.ms': 5}
    conf.update(extra)
    p = Producer(conf)
    p.init_transactions(30)
    return p


def read_all(topics, isolation, group=None, settle=2.0, parts=2):
    """Every record of topics (key, value, partition) in offset order per partition, read by
    assignment from the beginning until nothing new arrives for `settle` seconds."""
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': group or str(uuid.uuid4()),
                  'isolation.level': isolation, 'enable.auto.commit': False,
                  'auto.offset.reset': 'earliest'})
    c.assign([TopicPartition(t, p, 0) for t in topics for p in range(parts)])
    out, last = [], time.time()
    while time.time() - last < settle:
        m = c.poll(0.2)
        if m is None or m.error():
            continue
        out.append((m.topic(), m.partition(), (m.key() or b'').decode(), m.value().decode()))
        last = time.time()
    c.close()
    return out


def values(records):
    return sorted(v for (_, _, _, v) in records)


# --- commit and abort interleaved, across two topics and their partitions ---
p = producer('tx-basic')
expect_committed, everything = [], []
for t in range(6):
    p.begin_transaction()
    batch = ['t%d-%d' % (t, i) for i in range(50)]
    for i, v in enumerate(batch):
        p.produce('tx-a' if i % 2 else 'tx-b', key='k%d' % i, value=v)
    p.flush()
    everything += batch
    if t % 2 == 0:
        p.commit_transaction(30)
        expect_committed += batch
    else:
        p.abort_transaction(30)
committed = read_all(['tx-a', 'tx-b'], 'read_committed')
uncommitted = read_all(['tx-a', 'tx-b'], 'read_uncommitted')
assert values(committed) == sorted(expect_committed), (len(committed), len(expect_committed))
assert values(uncommitted) == sorted(everything), (len(uncommitted), len(everything))
# order within a partition is the produce order
for tp in {(r[0], r[1]) for r in committed}:
    seq = [r[3] for r in committed if (r[0], r[1]) == tp]
    assert seq == sorted(seq, key=lambda v: (int(v.split('-')[0][1:]), int(v.split('-')[1]))), seq
print('commit/abort interleaved: %d committed of %d, read_uncommitted saw all'
      % (len(committed), len(everything)))

# --- the last stable offset: an open transaction holds read_committed readers back ---
p.begin_transaction()
p.produce('tx-lso', key='k', value='open-1', partition=0)
p.flush()
plain = Producer({'bootstrap.servers': bootstrap})
plain.produce('tx-lso', key='k', value='plain-after', partition=0)
plain.flush()
seen = read_all(['tx-lso'], 'read_committed', settle=1.5)
assert seen == [], seen  # the plain record lies past the LSO
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'lso-probe',
              'isolation.level': 'read_committed'})
lo, hi = c.get_watermark_offsets(TopicPartition('tx-lso', 0), timeout=10, cached=False)
assert (lo, hi) == (0, 0), (lo, hi)  # ListOffsets LATEST under read_committed: the LSO
c.close()
p.commit_transaction(30)
seen = read_all(['tx-lso'], 'read_committed')
assert [r[3] for r in seen] == ['open-1', 'plain-after'], seen
print('LSO: a plain record behind an open transaction waited for its commit')

# --- fencing: a second producer with the same transactional id fences the first ---
zombie = producer('tx-fence')
zombie.begin_transaction()
zombie.produce('tx-a', key='z', value='zombie-1')
zombie.flush()
successor = producer('tx-fence')  # aborts the zombie's open transaction
successor.begin_transaction()
successor.produce('tx-a', key='s', value='successor-1')
successor.commit_transaction(30)
fenced = None
try:
    zombie.produce('tx-a', key='z', value='zombie-2')
    zombie.flush(10)
    zombie.commit_transaction(10)
except KafkaException as e:
    fenced = e.args[0]
assert fenced is not None and (fenced.fatal() or fenced.code() in (
    KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH)), fenced
seen = values(read_all(['tx-a'], 'read_committed'))
assert 'successor-1' in seen and not any(v.startswith('zombie') for v in seen), seen
print('fencing: the zombie got %s; its records never became visible' % fenced.name())

# --- consume-transform-produce: offsets commit with the transaction, and only then ---
feed = Producer({'bootstrap.servers': bootstrap, 'partitioner': 'murmur2_random'})
for i in range(100):
    feed.produce('tx-in', key='in%d' % i, value='v%d' % i)
feed.flush()
GROUP = 'copier'
src = Consumer({'bootstrap.servers': bootstrap, 'group.id': GROUP, 'enable.auto.commit': False,
                'isolation.level': 'read_committed', 'auto.offset.reset': 'earliest'})
src.assign([TopicPartition('tx-in', 0, 0), TopicPartition('tx-in', 1, 0)])
probe = Consumer({'bootstrap.servers': bootstrap, 'group.id': GROUP, 'enable.auto.commit': False,
                  'isolation.level': 'read_uncommitted'})
copier = producer('tx-copier')


def copy_round(commit):
    copier.begin_transaction()
    got = []
    deadline = time.time() + 10
    while len(got) < 100 and time.time() < deadline:
        m = src.poll(0.2)
        if m is not None and not m.error():
            got.append(m)
            copier.produce('tx-out', key=m.key(), value=m.value().upper())
    assert len(got) == 100, len(got)
    positions = src.position([TopicPartition('tx-in', 0), TopicPartition('tx-in', 1)])
    copier.send_offsets_to_transaction(positions, src.consumer_group_metadata(), 30)
    # pending: OffsetFetch shows the old offsets, and a reader asking for stable offsets
    # (librdkafka's read_committed consumer sets RequireStable) is told to wait
    before = probe.committed([TopicPartition('tx-in', 0), TopicPartition('tx-in', 1)], timeout=10)
    assert all(tp.offset < 0 for tp in before), before
    try:
        src.committed([TopicPartition('tx-in', 0)], timeout=1.5)
        raise AssertionError('a stable read of a pending offset returned')
    except KafkaException as e:
        assert e.args[0].code() == KafkaError._TIMED_OUT, e
    if commit:
        copier.commit_transaction(30)
    else:
        copier.abort_transaction(30)
    return positions


positions = copy_round(commit=False)
after = probe.committed([TopicPartition('tx-in', 0), TopicPartition('tx-in', 1)], timeout=10)
assert all(tp.offset < 0 for tp in after), after  # aborted: the offsets were dropped
assert read_all(['tx-out'], 'read_committed', settle=1.0) == []
src.assign([TopicPartition('tx-in', 0, 0), TopicPartition('tx-in', 1, 0)])  # rewind
positions = copy_round(commit=True)
after = src.committed([TopicPartition('tx-in', 0), TopicPartition('tx-in', 1)], timeout=10)
assert sorted((tp.partition, tp.offset) for tp in after) == \
    sorted((tp.partition, tp.offset) for tp in positions), (after, positions)
out = read_all(['tx-out'], 'read_committed')
assert values(out) == sorted('V%d' % i for i in range(100)), len(out)
assert len(read_all(['tx-out'], 'read_uncommitted')) == 200  # the aborted copy is there too
src.close()
probe.close()
print('send_offsets_to_transaction: offsets hidden while pending, dropped on abort, '
      'committed with the output')

# --- a transaction left open past its timeout is aborted by the coordinator ---
stuck = producer('tx-stuck', **{'transaction.timeout.ms': 2000})
stuck.begin_transaction()
stuck.produce('tx-b', key='x', value='stuck-1', partition=1)
stuck.flush()
plain.produce('tx-b', key='y', value='behind-stuck', partition=1)
plain.flush()
deadline = time.time() + 15
seen = []
while time.time() < deadline:
    seen = [r[3] for r in read_all(['tx-b'], 'read_committed', settle=0.5)]
    if 'behind-stuck' in seen:
        break
assert 'behind-stuck' in seen and 'stuck-1' not in seen, seen
err = None
try:
    stuck.commit_transaction(10)
except KafkaException as e:
    err = e.args[0]
assert err is not None, 'a timed-out transaction committed'
print('timeout: the stuck transaction was aborted (%s), the reader moved past it' % err.name())

# --- misuse: a timeout above transaction.max.timeout.ms is refused ---
try:
    producer('tx-too-long', **{'transaction.timeout.ms': 2147483647})
    raise AssertionError('an excessive transaction timeout was accepted')
except KafkaException as e:
    assert e.args[0].code() == KafkaError.INVALID_TRANSACTION_TIMEOUT, e
print('INVALID_TRANSACTION_TIMEOUT for a timeout above the maximum')

# --- weir's own queries read committed data: a CSAS over a transactional topic ---
if http_port:
    import http.client
    import json

    def ksql(sql):
        c = http.client.HTTPConnection('127.0.0.1', int(http_port), timeout=60)
        c.request('POST', '/ksql', json.dumps({'ksql': sql, 'streamsProperties': {
            'auto.offset.reset': 'earliest'}}), {'Content-Type': 'application/json'})
        r = c.getresponse()
        body = r.read().decode()
        assert r.status == 200, (sql, r.status, body)

    p = producer('tx-sql')
    for i, outcome in enumerate(['commit', 'abort', 'commit', 'abort', 'commit']):
        p.begin_transaction()
        for k in range(3):
            p.produce('tx-sql', key='k', value='{"V": "%s-%d-%d"}' % (outcome, i, k), partition=0)
        p.flush()
        if outcome == 'commit':
            p.commit_transaction(30)
        else:
            p.abort_transaction(30)
    # an open transaction at the end: the query must stop before it
    p.begin_transaction()
    p.produce('tx-sql', key='k', value='{"V": "open-5-0"}', partition=0)
    p.flush()
    ksql("CREATE STREAM TXIN (V STRING) WITH (KAFKA_TOPIC='tx-sql', VALUE_FORMAT='JSON');")
    ksql("CREATE STREAM TXOUT WITH (KAFKA_TOPIC='tx-sql-out', PARTITIONS=1) AS "
         "SELECT V FROM TXIN;")
    want = ['commit-%d-%d' % (i, k) for i in (0, 2, 4) for k in range(3)]
    got = []
    deadline = time.time() + 30
    while time.time() < deadline and len(got) < len(want):
        got = [json.loads(r[3])['V'] for r in read_all(['tx-sql-out'], 'read_uncommitted',
                                                         settle=1.0, parts=1)]
    assert got == want, got
    p.commit_transaction(30)
    deadline = time.time() + 30
    while time.time() < deadline and len(got) < len(want) + 1:
        got = [json.loads(r[3])['V'] for r in read_all(['tx-sql-out'], 'read_uncommitted',
                                                         settle=1.0, parts=1)]
    assert got == want + ['open-5-0'], got
    print('a CSAS over a transactional topic copied the committed records only, in order')
print('kafka_txn: all checks passed')
