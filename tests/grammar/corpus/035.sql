SELECT
  a,
  b
FROM
  s
WHERE
  a > b;