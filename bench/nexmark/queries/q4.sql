-- q4, average price for a category: the average of the winning (highest) bids of the auctions
-- of each category. Flink's nested query becomes three statements: the bids made while their
-- auction was open (a stream-table join: an auction comes before its bids in event time),
-- the highest per auction, and the average per category over that table (AVG takes a raised
-- maximum out of its category and puts the new one in).
CREATE STREAM Q4_BIDS AS SELECT B.AUCTION AS AUCTION, A.CATEGORY AS CATEGORY, B.PRICE AS PRICE
  FROM BID B JOIN AUCTION_T A ON B.AUCTION = A.ID
  WHERE B.DATETIME BETWEEN A.DATETIME AND A.EXPIRES;
CREATE TABLE Q4_MAX AS SELECT AUCTION, LATEST_BY_OFFSET(CATEGORY) AS CATEGORY,
  MAX(PRICE) AS FINAL FROM Q4_BIDS GROUP BY AUCTION;
CREATE TABLE Q4 AS SELECT CATEGORY, AVG(FINAL) AS AVG_FINAL FROM Q4_MAX GROUP BY CATEGORY;
