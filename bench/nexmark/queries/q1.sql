-- q1, currency conversion: bid prices from dollars to euros (DECIMAL, as Flink's 0.908 * price).
CREATE STREAM Q1 AS SELECT AUCTION, BIDDER, 0.908 * PRICE AS PRICE, DATETIME, EXTRA FROM BID;
