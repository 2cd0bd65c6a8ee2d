-- q8, monitor new users: the people who opened an auction in the 10-second tumbling window in
-- which they registered. Flink's join of two windowed GROUP BYs becomes a stream-stream join
-- within 10 seconds restricted to the same window, and a GROUP BY for one row per person and
-- window (a person is registered once, so its group is its row).
CREATE STREAM Q8_JOINED AS SELECT P.ID AS ID, P.NAME AS NAME,
  (P.DATETIME / 10000) * 10000 AS STARTTIME
  FROM PERSON P JOIN AUCTION A WITHIN 10 SECONDS ON P.ID = A.SELLER
  WHERE P.DATETIME / 10000 = A.DATETIME / 10000;
CREATE TABLE Q8 WITH (KEY_FORMAT='JSON') AS SELECT ID, STARTTIME, LATEST_BY_OFFSET(NAME) AS NAME
  FROM Q8_JOINED GROUP BY ID, STARTTIME;
