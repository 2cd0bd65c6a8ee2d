#!/usr/bin/env python3
"""kafka_python.py BOOTSTRAP - python3-confluent-kafka against the broker: admin create /
describe / alter / delete topics, keyed produce with delivery reports, consume by assignment
(and, when the broker has a group coordinator, subscribe + commit)."""
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

bootstrap = sys.argv[1]
with_groups = len(sys.argv) > 2 and sys.argv[2] == 'groups'
admin = AdminClient({'bootstrap.servers': bootstrap})


def wait(futures):
    return {k: f.result(timeout=30) for k, f in futures.items()}


# --- admin: create, describe configs, alter, create partitions, delete ---
wait(admin.create_topics([NewTopic('py-a', num_partitions=3, replication_factor=1,
                                   config={'retention.ms': '3600000'}),
                          NewTopic('py-b', num_partitions=1, replication_factor=1)]))
md = admin.list_topics(timeout=10)
assert 'py-a' in md.topics and len(md.topics['py-a'].partitions) == 3, md.topics
assert md.controller_id == 0 and md.cluster_id, (md.controller_id, md.cluster_id)
try:
    wait(admin.create_topics([NewTopic('py-a', num_partitions=1, replication_factor=1)]))
    raise AssertionError('duplicate create succeeded')
except KafkaException as e:
    assert e.args[0].name() == 'TOPIC_ALREADY_EXISTS', e
try:
    wait(admin.create_topics([NewTopic('py-c', num_partitions=1, replication_factor=3)]))
    raise AssertionError('replication factor 3 accepted')
except KafkaException as e:
    assert e.args[0].name() == 'INVALID_REPLICATION_FACTOR', e

res = ConfigResource('topic', 'py-a')
cfg = wait(admin.describe_configs([res]))[res]
assert cfg['retention.ms'].value == '3600000' and not cfg['retention.ms'].is_default, cfg
assert cfg['cleanup.policy'].value == 'delete' and cfg['cleanup.policy'].is_default
res2 = ConfigResource('topic', 'py-a', set_config={'retention.ms': '7200000'})
wait(admin.alter_configs([res2]))
cfg = wait(admin.describe_configs([res]))[res]
assert cfg['retention.ms'].value == '7200000', cfg['retention.ms']
wait(admin.create_partitions([NewPartitions('py-b', 2)]))
assert len(admin.list_topics(timeout=10).topics['py-b'].partitions) == 2

# --- produce keyed messages, consume them back by assignment ---
N = 2000
p = Producer({'bootstrap.servers': bootstrap, 'enable.idempotence': True,
              'compression.type': 'zstd', 'linger.ms': 5})
acked = []


def on_delivery(err, msg):
    assert err is None, err
    acked.append((msg.partition(), msg.offset(), msg.key(), msg.value()))


for i in range(N):
    p.produce('py-a', key=b'k%d' % i, value=b'v%d\x00\xff' % i, on_delivery=on_delivery)
    p.poll(0)
assert p.flush(30) == 0
assert len(acked) == N

c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'py-assign',
              'enable.auto.commit': False, 'enable.partition.eof': True})
c.assign([TopicPartition('py-a', i, 0) for i in range(3)])
got, eof, deadline = [], set(), time.time() + 60
while len(eof) < 3 and time.time() < deadline:
    m = c.poll(1.0)
    if m is None:
        continue
    if m.error():
        if m.error().code() == -191:  # _PARTITION_EOF
            eof.add(m.partition())
            continue
        raise AssertionError(m.error())
    got.append((m.partition(), m.offset(), m.key(), m.value()))
c.close()
assert sorted(got) == sorted(acked), (len(got), len(acked))
lo, hi = None, None

if with_groups:
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'py-group',
                  'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
    c.subscribe(['py-a'])
    seen, deadline = 0, time.time() + 60
    while seen < N and time.time() < deadline:
        m = c.poll(1.0)
        if m is not None and not m.error():
            seen += 1
    assert seen == N, seen
    c.commit(asynchronous=False)
    committed = c.committed([TopicPartition('py-a', i) for i in range(3)], timeout=10)
    assert sum(tp.offset for tp in committed) == N, committed
    c.close()

wait(admin.delete_topics(['py-a', 'py-b'], operation_timeout=10))
left = admin.list_topics(timeout=10).topics
assert 'py-a' not in left and 'py-b' not in left, left
print('ok: python confluent-kafka admin, produce, consume' + (', groups' if with_groups else ''))
