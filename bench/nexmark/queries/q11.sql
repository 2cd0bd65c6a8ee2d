-- q11, user sessions: bids per bidder per session (a 10-second gap closes a session).
-- Kafka Streams' sessions, which weir's are: records at most 10 s apart share a session
-- (Flink's: less than 10 s apart).
CREATE TABLE Q11 AS SELECT BIDDER, COUNT(*) AS BID_COUNT, WINDOWSTART AS STARTTIME,
  WINDOWEND AS ENDTIME FROM BID WINDOW SESSION (10 SECONDS) GROUP BY BIDDER;
