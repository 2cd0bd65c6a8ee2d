-- q3, local item suggestion: sellers in Oregon, Idaho or California of category-10 auctions.
-- Flink's regular join of two append-only streams is here a foreign-key join of the two tables
-- (each auction and each person comes once): a result comes when the second of the two arrives,
-- whichever it is, as in Flink. The result is keyed by the auction's id.
CREATE TABLE Q3 AS SELECT A.ID AS ID, P.NAME AS NAME, P.CITY AS CITY, P.STATE AS STATE
  FROM AUCTION_T A JOIN PERSON_T P ON A.SELLER = P.ID
  WHERE A.CATEGORY = 10 AND (P.STATE = 'OR' OR P.STATE = 'ID' OR P.STATE = 'CA');
