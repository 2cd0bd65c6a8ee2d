-- q12, processing-time windows: bids per bidder in 10-second windows of processing time.
-- ksqlDB's windows are event-time windows; the processing-time window is the group
-- UNIX_TIMESTAMP() / 10000 * 10000 (the wall clock when the row is aggregated).
CREATE TABLE Q12 WITH (KEY_FORMAT='JSON') AS SELECT BIDDER,
  (UNIX_TIMESTAMP() / 10000) * 10000 AS STARTTIME, COUNT(*) AS BID_COUNT
  FROM BID GROUP BY BIDDER, (UNIX_TIMESTAMP() / 10000) * 10000;
