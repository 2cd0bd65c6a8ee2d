-- q13, bounded side input join: every bid joined with the side input's row for auction % 10000
-- (Flink reads a 10,000-line file; here a table over the topic `gen --side-input 10000`
-- writes). The join expression is the result's key, as ksqlDB requires.
CREATE STREAM Q13 AS SELECT B.AUCTION % 10000 AS SKEY, B.AUCTION AS AUCTION, B.BIDDER AS BIDDER,
  B.PRICE AS PRICE, B.DATETIME AS DATETIME, S.VALUE AS VALUE
  FROM BID B JOIN SIDE_INPUT S ON B.AUCTION % 10000 = S.KEY;
