-- q7, highest bid: the bids whose price is the highest of their 10-second tumbling window.
-- The window's maximum is final once the window closes (EMIT FINAL), its window stripped by
-- PARTITION BY (joins of windowed sources are not built), then joined back to the bids on the
-- price within the window, as Flink's q7 does (B.dateTime between the window's rowtime - 10 s
-- and its rowtime, the rowtime being the window's end - 1 ms).
CREATE TABLE Q7_MAX AS SELECT DATETIME / 10000 AS WID, MAX(PRICE) AS MAXPRICE, WINDOWEND AS WEND
  FROM BID WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 0 SECONDS)
  GROUP BY DATETIME / 10000 EMIT FINAL;
CREATE STREAM Q7_MAX_W (WID BIGINT KEY, MAXPRICE BIGINT, WEND BIGINT)
  WITH (KAFKA_TOPIC='Q7_MAX', VALUE_FORMAT='JSON', WINDOW_TYPE='TUMBLING',
        WINDOW_SIZE='10 SECONDS');
CREATE STREAM Q7_MAX_S AS SELECT MAXPRICE, WEND FROM Q7_MAX_W PARTITION BY MAXPRICE;
CREATE STREAM Q7 AS SELECT B.AUCTION AS AUCTION, B.PRICE AS PRICE, B.BIDDER AS BIDDER,
  B.DATETIME AS DATETIME, B.EXTRA AS EXTRA
  FROM BID B JOIN Q7_MAX_S M WITHIN 11 SECONDS ON B.PRICE = M.MAXPRICE
  WHERE B.DATETIME BETWEEN M.WEND - 10001 AND M.WEND - 1;
