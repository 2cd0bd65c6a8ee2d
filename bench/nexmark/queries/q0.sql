-- q0, pass-through: every bid, as it is (the cost of reading, decoding and writing).
CREATE STREAM Q0 AS SELECT AUCTION, BIDDER, PRICE, DATETIME, EXTRA FROM BID;
