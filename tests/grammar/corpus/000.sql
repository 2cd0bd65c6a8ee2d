CREATE STREAM pageviews (
  viewtime BIGINT,
  userid VARCHAR KEY,
  pageid STRING,
  ok BOOLEAN, n INT, i INTEGER, d DOUBLE, amount DECIMAL(10, 2), raw BYTES,
  ts TIMESTAMP, day DATE, tod TIME,
  tags ARRAY<STRING>, attrs MAP<STRING, BIGINT>,
  addr STRUCT<street STRING, zip INT, geo STRUCT<lat DOUBLE, lon DOUBLE>>,
  hs ARRAY<STRUCT<key STRING, value BYTES>> HEADERS,
  trace BYTES HEADER('trace-id')
) WITH (kafka_topic='pageviews', value_format='JSON', partitions=4, replicas=1, timestamp='viewtime');