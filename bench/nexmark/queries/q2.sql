-- q2, selection: the bids of every 123rd auction.
CREATE STREAM Q2 AS SELECT AUCTION, PRICE FROM BID WHERE AUCTION % 123 = 0;
