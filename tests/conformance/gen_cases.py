#!/usr/bin/env python3
"""Writes tests/conformance/cases/*.json: weir's own query-validation cases in ksqlDB's QTT shape.

The cases are data; this script only saves typing (one line per case). Edit the cases here and
re-run it: python3 tests/conformance/gen_cases.py
"""
import json, os, random

import join_cases

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = ("CREATE STREAM INPUT (ID BIGINT KEY, NAME STRING, AMOUNT INT, PRICE DOUBLE) "
       "WITH (kafka_topic='input', value_format='JSON');")

def rec(v, k=1, ts=0, topic='input'):
    return {"topic": topic, "key": k, "value": v, "timestamp": ts}

def out(v, k=1, ts=0, topic='OUTPUT'):
    o = {"topic": topic, "key": k, "value": v}
    if ts is not None:
        o["timestamp"] = ts
    return o

def proj(name, select, inputs, outputs, where=None, src=SRC, extra=""):
    q = f"CREATE STREAM OUTPUT {extra}AS SELECT {select} FROM INPUT" + (f" WHERE {where}" if where else "") + ";"
    return {"name": name, "statements": [src, q], "inputs": inputs, "outputs": outputs}

def err(name, stmts, message):
    return {"name": name, "statements": stmts, "expectedException": {"type": "KsqlStatementException", "message": message}}

def expr_cases(prefix, rows):
    """rows: (sql expression, input value dict, expected output value) -> one case each"""
    cases = []
    for i, (e, v, want) in enumerate(rows):
        cases.append(proj(f"{prefix} {i}: {e}", f"ID, {e} AS R", [rec(v)], [out({"R": want})]))
    return cases

files = {}

# ---- projection and filter ------------------------------------------------------------------
A = {"NAME": "a", "AMOUNT": 5, "PRICE": 1.5}
files["projection"] = [
    proj("select star", "*", [rec(A)], [out(A)]),
    proj("select key and one column", "ID, NAME", [rec(A)], [out({"NAME": "a"})]),
    proj("column alias", "ID, NAME AS N", [rec(A)], [out({"N": "a"})]),
    proj("alias without AS", "ID, NAME N", [rec(A)], [out({"N": "a"})]),
    proj("key renamed", "ID AS K, NAME", [rec(A)], [out({"NAME": "a"})]),
    proj("expression gets KSQL_COL_0", "ID, AMOUNT + 1", [rec(A)], [out({"KSQL_COL_0": 6})]),
    proj("two generated names", "ID, AMOUNT + 1, AMOUNT * 2", [rec(A)], [out({"KSQL_COL_0": 6, "KSQL_COL_1": 10})]),
    proj("qualified columns", "INPUT.ID, INPUT.NAME", [rec(A)], [out({"NAME": "a"})]),
    {"name": "source alias", "statements": [SRC, "CREATE STREAM OUTPUT AS SELECT I.ID, I.NAME FROM INPUT I;"],
     "inputs": [rec(A)], "outputs": [out({"NAME": "a"})]},
    proj("reorder columns", "ID, PRICE, NAME", [rec(A)], [out({"PRICE": 1.5, "NAME": "a"})]),
    proj("missing field becomes null", "ID, NAME, AMOUNT", [rec({"NAME": "a"})], [out({"NAME": "a", "AMOUNT": None})]),
    proj("field names match case-insensitively", "ID, NAME", [rec({"name": "lower"})], [out({"NAME": "lower"})]),
    proj("extra fields are ignored", "ID, NAME", [rec({"NAME": "a", "OTHER": [1, 2]})], [out({"NAME": "a"})]),
    proj("several records keep order", "ID, AMOUNT", [rec({"AMOUNT": i}, ts=i) for i in range(5)],
         [out({"AMOUNT": i}, ts=i) for i in range(5)]),
    proj("keys are kept", "ID, NAME", [rec({"NAME": "x"}, k=7), rec({"NAME": "y"}, k=8)],
         [out({"NAME": "x"}, k=7), out({"NAME": "y"}, k=8)]),
    proj("null key", "ID, NAME", [rec({"NAME": "x"}, k=None)], [out({"NAME": "x"}, k=None)]),
    proj("rowtime pseudo column", "ID, ROWTIME AS T", [rec(A, ts=1234)], [out({"T": 1234}, ts=1234)]),
    proj("rowpartition and rowoffset", "ID, ROWPARTITION AS P, ROWOFFSET AS O",
         [rec(A), rec(A)], [out({"P": 0, "O": 0}), out({"P": 0, "O": 1})]),
    proj("timestamps pass through", "ID, NAME", [rec(A, ts=10), rec(A, ts=5)], [out({"NAME": "a"}, ts=10), out({"NAME": "a"}, ts=5)]),
]

R = [rec({"NAME": n, "AMOUNT": a, "PRICE": p}, k=i) for i, (n, a, p) in enumerate([("a", 1, 1.0), ("b", 5, 2.5), ("c", 10, None), (None, None, 3.0)])]
files["filter"] = [
    proj("where greater than", "ID, NAME", R, [out({"NAME": "b"}, k=1), out({"NAME": "c"}, k=2)], where="AMOUNT > 2"),
    proj("where equals string", "ID, AMOUNT", R, [out({"AMOUNT": 5}, k=1)], where="NAME = 'b'"),
    proj("where with AND", "ID", R, [out({}, k=1)], where="AMOUNT > 2 AND PRICE < 3"),
    proj("where with OR", "ID, NAME", R, [out({"NAME": "a"}, k=0), out({"NAME": "c"}, k=2)], where="NAME = 'a' OR AMOUNT = 10"),
    proj("null never passes a comparison", "ID", R, [out({}, k=0), out({}, k=1)], where="PRICE < 2.75"),
    proj("is null", "ID", R, [out({}, k=3)], where="NAME IS NULL"),
    proj("is not null", "ID", R, [out({}, k=0), out({}, k=1), out({}, k=2)], where="NAME IS NOT NULL"),
    proj("between", "ID", R, [out({}, k=1), out({}, k=2)], where="AMOUNT BETWEEN 5 AND 10"),
    proj("not between", "ID", R, [out({}, k=0)], where="AMOUNT NOT BETWEEN 5 AND 10"),
    proj("in list", "ID", R, [out({}, k=0), out({}, k=2)], where="NAME IN ('a', 'c')"),
    proj("not in list", "ID", R, [out({}, k=1)], where="NAME NOT IN ('a', 'c')"),
    proj("like prefix", "ID", R + [rec({"NAME": "abc"}, k=9)], [out({}, k=0), out({}, k=9)], where="NAME LIKE 'a%'"),
    proj("like single char", "ID", R + [rec({"NAME": "ab"}, k=9)], [out({}, k=9)], where="NAME LIKE 'a_'"),
    proj("not", "ID", R, [out({}, k=0), out({}, k=2)], where="NOT (NAME = 'b')"),
    proj("where on key", "ID, NAME", R, [out({"NAME": "c"}, k=2)], where="ID = 2"),
    proj("where on rowtime", "ID", [rec(A, ts=1), rec(A, k=2, ts=100)], [out({}, k=2, ts=100)], where="ROWTIME > 50"),
    proj("where is distinct from", "ID", R, [out({}, k=0), out({}, k=2), out({}, k=3)], where="NAME IS DISTINCT FROM 'b'"),
    proj("where with arithmetic", "ID", R, [out({}, k=2)], where="AMOUNT * 2 > 15"),
    proj("where false drops everything", "ID", R, [], where="FALSE"),
    proj("where with case", "ID", R, [out({}, k=0)], where="CASE WHEN AMOUNT < 2 THEN TRUE ELSE FALSE END"),
]

# ---- expressions -------------------------------------------------------------------------------
V = {"NAME": "Hello", "AMOUNT": 7, "PRICE": 2.5}
files["arithmetic"] = expr_cases("arith", [
    ("AMOUNT + 1", V, 8), ("AMOUNT - 10", V, -3), ("AMOUNT * 3", V, 21), ("AMOUNT / 2", V, 3),
    ("AMOUNT % 4", V, 3), ("AMOUNT / 0", V, None), ("AMOUNT % 0", V, None), ("PRICE * 2", V, 5.0),
    ("AMOUNT + PRICE", V, 9.5), ("-AMOUNT", V, -7),
    ("AMOUNT + NULL", V, None), ("2147483647 + AMOUNT", V, -2147483642), ("ID + AMOUNT", V, 8),
    ("1.5 + 1", V, 2.5), ("CAST(AMOUNT AS DECIMAL(4, 1)) / 2", V, 3.5), ("(AMOUNT + 1) * 2", V, 16),
    ("AMOUNT + 1 * 2", V, 9), ("PRICE - 0.5", V, 2.0),
])
files["logic"] = expr_cases("logic", [
    ("AMOUNT > 5 AND PRICE > 2", V, True), ("AMOUNT > 5 AND PRICE > 3", V, False),
    ("AMOUNT > 10 OR PRICE > 2", V, True), ("NOT (AMOUNT > 5)", V, False),
    ("CAST(NULL AS BOOLEAN) AND FALSE", V, False), ("CAST(NULL AS BOOLEAN) AND TRUE", V, None),
    ("CAST(NULL AS BOOLEAN) OR TRUE", V, True), ("CAST(NULL AS BOOLEAN) OR FALSE", V, None),
    ("AMOUNT = 7", V, True), ("AMOUNT <> 7", V, False), ("AMOUNT != 8", V, True), ("AMOUNT <= 7", V, True),
    ("NAME = 'Hello'", V, True), ("NAME < 'World'", V, True), ("AMOUNT IN (1, 7)", V, True),
    ("AMOUNT IN (1, NULL)", V, None), ("NAME IS NULL", V, False), ("AMOUNT IS NOT DISTINCT FROM 7", V, True),
])
files["case_cast"] = expr_cases("case/cast", [
    ("CASE WHEN AMOUNT > 5 THEN 'big' ELSE 'small' END", V, "big"),
    ("CASE WHEN AMOUNT > 50 THEN 'big' END", V, None),
    ("CASE AMOUNT WHEN 1 THEN 'one' WHEN 7 THEN 'seven' ELSE 'other' END", V, "seven"),
    ("CASE WHEN AMOUNT > 5 THEN 1 ELSE 2.5 END", V, 1.0),
    ("CAST(AMOUNT AS STRING)", V, "7"), ("CAST(PRICE AS STRING)", V, "2.5"), ("CAST(PRICE AS INT)", V, 2),
    ("CAST(AMOUNT AS DOUBLE)", V, 7.0), ("CAST('12' AS INT)", V, 12), ("CAST('x' AS INT)", V, None),
    ("CAST(AMOUNT AS BIGINT)", V, 7), ("CAST(PRICE AS DECIMAL(4, 2))", V, 2.5),
    ("CAST('true' AS BOOLEAN)", V, True), ("CAST(NAME AS BOOLEAN)", V, False),
    ("CAST(1.75 AS DECIMAL(2, 1))", V, 1.8), ("CAST(AMOUNT > 1 AS STRING)", V, "true"),
])
files["strings_ops"] = expr_cases("string op", [
    ("NAME || ' world'", V, "Hello world"), ("NAME + '!'", V, "Hello!"), ("NAME || NULL", V, None),
    ("'it''s'", V, "it's"), ("NAME LIKE 'H%o'", V, True), ("NAME LIKE 'h%'", V, False),
    ("'a%b' LIKE 'a!%b' ESCAPE '!'", V, True),
])
files["collections"] = expr_cases("collection", [
    ("ARRAY[1, 2, 3]", V, [1, 2, 3]), ("ARRAY[AMOUNT, 1]", V, [7, 1]), ("ARRAY[1, 2, 3][2]", V, 2),
    ("ARRAY[1, 2, 3][-1]", V, 3), ("ARRAY[1, 2, 3][5]", V, None), ("MAP('a' := 1, 'b' := 2)['b']", V, 2),
    ("MAP('a' := AMOUNT)", V, {"a": 7}), ("STRUCT(X := AMOUNT, Y := NAME)", V, {"X": 7, "Y": "Hello"}),
    ("STRUCT(X := AMOUNT)->X", V, 7), ("TRANSFORM(ARRAY[1, 2], x => x * AMOUNT)", V, [7, 14]),
    ("FILTER(ARRAY[1, 5, 10], x => x > AMOUNT)", V, [10]), ("REDUCE(ARRAY[1, 2, 3], 0, (s, x) => s + x)", V, 6),
    ("TRANSFORM(MAP('a' := 1), (k, v) => k || '!', (k, v) => v + 1)", V, {"a!": 2}),
    ("ARRAY[ARRAY[1], ARRAY[2, 3]][2][1]", V, 2),
])

# ---- nested input types -----------------------------------------------------------------------
NSRC = ("CREATE STREAM INPUT (ID BIGINT KEY, TAGS ARRAY<STRING>, ATTRS MAP<STRING, INT>, "
        "ADDR STRUCT<STREET STRING, ZIP INT>) WITH (kafka_topic='input', value_format='JSON');")
NV = {"TAGS": ["x", "y"], "ATTRS": {"k": 3}, "ADDR": {"STREET": "main", "ZIP": 1234}}
def nproj(name, select, v, want):
    return proj(name, select, [rec(v)], [out(want)], src=NSRC)
files["nested"] = [
    nproj("array column passes through", "ID, TAGS", NV, {"TAGS": ["x", "y"]}),
    nproj("array subscript", "ID, TAGS[1] AS T", NV, {"T": "x"}),
    nproj("map column", "ID, ATTRS", NV, {"ATTRS": {"k": 3}}),
    nproj("map lookup", "ID, ATTRS['k'] AS A", NV, {"A": 3}),
    nproj("map lookup miss", "ID, ATTRS['z'] AS A", NV, {"A": None}),
    nproj("struct column", "ID, ADDR", NV, {"ADDR": {"STREET": "main", "ZIP": 1234}}),
    nproj("struct field", "ID, ADDR->ZIP AS Z", NV, {"Z": 1234}),
    nproj("struct field without alias takes the field name", "ID, ADDR->STREET", NV, {"STREET": "main"}),
    nproj("struct fields match case-insensitively", "ID, ADDR->ZIP AS Z", {"ADDR": {"zip": 9}}, {"Z": 9}),
    nproj("null nested values", "ID, TAGS, ADDR->ZIP AS Z", {"TAGS": None, "ADDR": None}, {"TAGS": None, "Z": None}),
    nproj("array with null element", "ID, TAGS", {"TAGS": ["a", None]}, {"TAGS": ["a", None]}),
    nproj("transform a column", "ID, TRANSFORM(TAGS, t => t || '!') AS T", NV, {"T": ["x!", "y!"]}),
]

# ---- formats ----------------------------------------------------------------------------------
files["formats"] = [
    {"name": "delimited value in, json out",
     "statements": ["CREATE STREAM INPUT (ID BIGINT KEY, NAME STRING, AMOUNT INT) WITH (kafka_topic='input', value_format='DELIMITED');",
                    "CREATE STREAM OUTPUT WITH (value_format='JSON') AS SELECT ID, NAME, AMOUNT FROM INPUT;"],
     "inputs": [rec("a,5"), rec("b,")], "outputs": [out({"NAME": "a", "AMOUNT": 5}), out({"NAME": "b", "AMOUNT": None})]},
    {"name": "json in, delimited out",
     "statements": [SRC, "CREATE STREAM OUTPUT WITH (value_format='DELIMITED') AS SELECT ID, NAME, AMOUNT FROM INPUT;"],
     "inputs": [rec({"NAME": "a,b", "AMOUNT": 1})], "outputs": [out("\"a,b\",1")]},
    {"name": "delimited with a tab delimiter",
     "statements": ["CREATE STREAM INPUT (ID BIGINT KEY, A STRING, B INT) WITH (kafka_topic='input', value_format='DELIMITED', value_delimiter='TAB');",
                    "CREATE STREAM OUTPUT WITH (value_format='JSON') AS SELECT * FROM INPUT;"],
     "inputs": [rec("x\t2")], "outputs": [out({"A": "x", "B": 2})]},
    {"name": "string key in KAFKA format",
     "statements": ["CREATE STREAM INPUT (K STRING KEY, V INT) WITH (kafka_topic='input', value_format='JSON');",
                    "CREATE STREAM OUTPUT AS SELECT K, V * 2 AS V2 FROM INPUT;"],
     "inputs": [rec({"V": 2}, k="abc")], "outputs": [out({"V2": 4}, k="abc")]},
    {"name": "json key format",
     "statements": ["CREATE STREAM INPUT (K INT KEY, V INT) WITH (kafka_topic='input', key_format='JSON', value_format='JSON');",
                    "CREATE STREAM OUTPUT AS SELECT K, V FROM INPUT;"],
     "inputs": [rec({"V": 2}, k=5)], "outputs": [out({"V": 2}, k=5)]},
    {"name": "unwrapped single value in",
     "statements": ["CREATE STREAM INPUT (ID BIGINT KEY, V INT) WITH (kafka_topic='input', value_format='JSON', wrap_single_value=false);",
                    "CREATE STREAM OUTPUT WITH (wrap_single_value=true) AS SELECT ID, V FROM INPUT;"],
     "inputs": [rec(42)], "outputs": [out({"V": 42})]},
    {"name": "unwrapped single value out",
     "statements": [SRC, "CREATE STREAM OUTPUT WITH (wrap_single_value=false) AS SELECT ID, NAME FROM INPUT;"],
     "inputs": [rec({"NAME": "n"})], "outputs": [out("n")]},
    {"name": "kafka value format",
     "statements": ["CREATE STREAM INPUT (ID BIGINT KEY, V BIGINT) WITH (kafka_topic='input', value_format='KAFKA');",
                    "CREATE STREAM OUTPUT WITH (value_format='JSON') AS SELECT ID, V + 1 AS V FROM INPUT;"],
     "inputs": [rec(41)], "outputs": [out({"V": 42})]},
    {"name": "FORMAT sets key and value",
     "statements": ["CREATE STREAM INPUT (K STRING KEY, V INT) WITH (kafka_topic='input', format='JSON');",
                    "CREATE STREAM OUTPUT AS SELECT * FROM INPUT;"],
     "inputs": [rec({"V": 1}, k="k")], "outputs": [out({"V": 1}, k="k")]},
    {"name": "decimal and double values in json",
     "statements": ["CREATE STREAM INPUT (ID BIGINT KEY, D DECIMAL(5, 2), F DOUBLE) WITH (kafka_topic='input', value_format='JSON');",
                    "CREATE STREAM OUTPUT AS SELECT ID, D, D * 2 AS D2, F FROM INPUT;"],
     "inputs": [rec({"D": 1.25, "F": 0.1})], "outputs": [out({"D": 1.25, "D2": 2.5, "F": 0.1})]},
    {"name": "numbers in strings are read for numeric columns",
     "statements": [SRC, "CREATE STREAM OUTPUT AS SELECT ID, AMOUNT FROM INPUT;"],
     "inputs": [rec({"AMOUNT": "12"})], "outputs": [out({"AMOUNT": 12})]},
    {"name": "boolean column",
     "statements": ["CREATE STREAM INPUT (ID BIGINT KEY, B BOOLEAN) WITH (kafka_topic='input', value_format='JSON');",
                    "CREATE STREAM OUTPUT AS SELECT ID, NOT B AS NB FROM INPUT;"],
     "inputs": [rec({"B": True}), rec({"B": None})], "outputs": [out({"NB": False}), out({"NB": None})]},
]

# ---- bad records -------------------------------------------------------------------------------
files["bad_records"] = [
    {"name": "invalid json is skipped and the query goes on",
     "statements": [SRC, "CREATE STREAM OUTPUT AS SELECT ID, NAME FROM INPUT;"],
     "inputs": [rec({"NAME": "a"}), rec("{not json"), rec({"NAME": "b"})],
     "outputs": [out({"NAME": "a"}), out({"NAME": "b"})]},
    {"name": "a value of the wrong type is skipped",
     "statements": [SRC, "CREATE STREAM OUTPUT AS SELECT ID, AMOUNT FROM INPUT;"],
     "inputs": [rec({"AMOUNT": "abc"}), rec({"AMOUNT": 3})], "outputs": [out({"AMOUNT": 3})]},
    {"name": "an int out of range is skipped",
     "statements": [SRC, "CREATE STREAM OUTPUT AS SELECT ID, AMOUNT FROM INPUT;"],
     "inputs": [rec({"AMOUNT": 3000000000}), rec({"AMOUNT": 3})], "outputs": [out({"AMOUNT": 3})]},
    {"name": "division by zero gives null, not a failure",
     "statements": [SRC, "CREATE STREAM OUTPUT AS SELECT ID, 10 / AMOUNT AS Q FROM INPUT;"],
     "inputs": [rec({"AMOUNT": 0}), rec({"AMOUNT": 5})], "outputs": [out({"Q": None}), out({"Q": 2})]},
    {"name": "a tombstone is ignored by a stream",
     "statements": [SRC, "CREATE STREAM OUTPUT AS SELECT ID, NAME FROM INPUT;"],
     "inputs": [rec(None), rec({"NAME": "x"})], "outputs": [out({"NAME": "x"})]},
]

# ---- partition by, insert ------------------------------------------------------------------------
files["partition_by"] = [
    {"name": "partition by a value column",
     "statements": [SRC, "CREATE STREAM OUTPUT AS SELECT NAME, AMOUNT FROM INPUT PARTITION BY NAME;"],
     "inputs": [rec({"NAME": "a", "AMOUNT": 1}, k=1)], "outputs": [out({"AMOUNT": 1}, k="a")]},
    {"name": "partition by a column that is not projected adds it as the key",
     "statements": [SRC, "CREATE STREAM OUTPUT AS SELECT AMOUNT FROM INPUT PARTITION BY NAME;"],
     "inputs": [rec({"NAME": "a", "AMOUNT": 1}, k=1)], "outputs": [out({"AMOUNT": 1}, k="a")]},
    {"name": "partition by an expression",
     "statements": [SRC, "CREATE STREAM OUTPUT AS SELECT AMOUNT * 2 AS K, NAME FROM INPUT PARTITION BY AMOUNT * 2;"],
     "inputs": [rec({"NAME": "a", "AMOUNT": 4})], "outputs": [out({"NAME": "a"}, k=8)]},
    {"name": "partition by null drops the key",
     "statements": [SRC, "CREATE STREAM OUTPUT AS SELECT ID, NAME FROM INPUT PARTITION BY NULL;"],
     "inputs": [rec({"NAME": "a"}, k=3)], "outputs": [out({"ID": 3, "NAME": "a"}, k=None)]},
    {"name": "the old key becomes a value column",
     "statements": [SRC, "CREATE STREAM OUTPUT AS SELECT ID, NAME FROM INPUT PARTITION BY NAME;"],
     "inputs": [rec({"NAME": "n"}, k=9)], "outputs": [out({"ID": 9}, k="n")]},
    {"name": "partition by a null value gives a null key",
     "statements": [SRC, "CREATE STREAM OUTPUT AS SELECT NAME, AMOUNT FROM INPUT PARTITION BY NAME;"],
     "inputs": [rec({"AMOUNT": 2})], "outputs": [out({"AMOUNT": 2}, k=None)]},
]
files["insert"] = [
    {"name": "insert values then read them through a query",
     "statements": [SRC, "INSERT INTO INPUT (ID, NAME, AMOUNT) VALUES (5, 'v', 3);",
                    "CREATE STREAM OUTPUT AS SELECT ID, NAME, AMOUNT FROM INPUT;"],
     "inputs": [], "outputs": [out({"NAME": "v", "AMOUNT": 3}, k=5, ts=None)]},
    {"name": "insert values with rowtime",
     "statements": [SRC, "INSERT INTO INPUT (ROWTIME, ID, NAME) VALUES (777, 1, 'v');",
                    "CREATE STREAM OUTPUT AS SELECT ID, NAME FROM INPUT;"],
     "inputs": [], "outputs": [out({"NAME": "v"}, ts=777)]},
    {"name": "insert values in column order",
     "statements": [SRC, "INSERT INTO INPUT VALUES (2, 'w', 4, 1.5);",
                    "CREATE STREAM OUTPUT AS SELECT * FROM INPUT;"],
     "inputs": [], "outputs": [out({"NAME": "w", "AMOUNT": 4, "PRICE": 1.5}, k=2, ts=None)]},
    {"name": "insert into select merges two streams",
     "statements": [SRC, "CREATE STREAM OTHER (ID BIGINT KEY, NAME STRING) WITH (kafka_topic='other', value_format='JSON');",
                    "CREATE STREAM OUTPUT AS SELECT ID, NAME FROM INPUT;",
                    "INSERT INTO OUTPUT SELECT ID, NAME FROM OTHER;"],
     "inputs": [rec({"NAME": "a"}), rec({"NAME": "b"}, k=2, topic="other")],
     "outputs": [out({"NAME": "a"}), out({"NAME": "b"}, k=2)]},
    err("insert values into an unknown column", [SRC, "INSERT INTO INPUT (ID, NOPE) VALUES (1, 2);"], "column NOPE does not exist in INPUT"),
    err("insert values with the wrong count", [SRC, "INSERT INTO INPUT (ID, NAME) VALUES (1);"], "expected 2 values, got 1"),
    err("insert into select with another schema", [SRC, "CREATE STREAM OUTPUT AS SELECT ID, NAME FROM INPUT;",
                                                      "INSERT INTO OUTPUT SELECT ID, AMOUNT FROM INPUT;"], "incompatible schema"),
]

# ---- statements and errors -----------------------------------------------------------------------
files["errors"] = [
    err("syntax error names the place", ["CREATE STREAM S (A INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);", "SELEC * FROM S;"], "line 2:1: Syntax Error\nUnknown statement 'SELEC'"),
    err("semantic error names line and column in the script", [SRC, "CREATE STREAM OUTPUT AS\n  SELECT ID, NAM FROM INPUT;"], "line 3:14: column 'NAM' cannot be resolved"),
    err("unknown column with a suggestion", [SRC, "CREATE STREAM OUTPUT AS SELECT ID, NAM FROM INPUT;"], "column 'NAM' cannot be resolved; did you mean 'NAME'?"),
    err("unknown source", ["CREATE STREAM OUTPUT AS SELECT * FROM NOPE;"], "NOPE does not exist"),
    err("type mismatch in where", [SRC, "CREATE STREAM OUTPUT AS SELECT ID FROM INPUT WHERE NAME > 1;"], "cannot compare STRING with INTEGER"),
    err("where must be boolean", [SRC, "CREATE STREAM OUTPUT AS SELECT ID FROM INPUT WHERE AMOUNT;"], "WHERE needs a BOOLEAN expression"),
    err("key missing from projection", [SRC, "CREATE STREAM OUTPUT AS SELECT NAME FROM INPUT;"], "Key missing from projection"),
    err("duplicate source", [SRC, SRC], "a stream with the same name already exists"),
    err("missing topic property", ["CREATE STREAM S (A INT) WITH (value_format='JSON');"], "missing required property \"KAFKA_TOPIC\""),
    err("missing value format", ["CREATE STREAM S (A INT) WITH (kafka_topic='t', partitions=1);"], "missing required property \"VALUE_FORMAT\""),
    dict(err("topic does not exist", ["CREATE STREAM S (A INT) WITH (kafka_topic='nope', value_format='JSON');"], "topic 'nope' does not exist"), noAutoTopics=True),
    err("unknown format", ["CREATE STREAM S (A INT) WITH (kafka_topic='t', value_format='XML', partitions=1);"], "XML"),
    err("tables need a primary key", ["CREATE TABLE T (A INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);"], "tables require a PRIMARY KEY"),
    err("streams use KEY, not PRIMARY KEY", ["CREATE STREAM S (A INT PRIMARY KEY) WITH (kafka_topic='t', value_format='JSON', partitions=1);"], "please use 'KEY' for streams"),
    err("tables use PRIMARY KEY, not KEY", ["CREATE TABLE T (A INT KEY) WITH (kafka_topic='t', value_format='JSON', partitions=1);"], "please use 'PRIMARY KEY' for tables"),
    err("duplicate column", ["CREATE STREAM S (A INT, A STRING) WITH (kafka_topic='t', value_format='JSON', partitions=1);"], "duplicate column name 'A'"),
    err("reserved column name", ["CREATE STREAM S (ROWTIME BIGINT) WITH (kafka_topic='t', value_format='JSON', partitions=1);"], "'ROWTIME' is a reserved column name"),
    err("unknown WITH property", ["CREATE STREAM S (A INT) WITH (kafka_topic='t', value_format='JSON', partitions=1, colour='red');"], "invalid config variable(s) in the WITH clause: COLOUR"),
    err("kafka key format takes one primitive", ["CREATE STREAM S (A INT KEY, B INT KEY, C INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);"], "KAFKA"),
    err("unknown function", [SRC, "CREATE STREAM OUTPUT AS SELECT ID, NOSUCH(NAME) FROM INPUT;"], "unknown function NOSUCH"),
    err("bad cast", [SRC, "CREATE STREAM OUTPUT AS SELECT ID, CAST(NAME AS ARRAY<INT>) FROM INPUT;"], "cannot CAST STRING to ARRAY<INTEGER>"),
    err("drop of a stream a query reads", [SRC, "CREATE STREAM OUTPUT AS SELECT * FROM INPUT;", "DROP STREAM INPUT;"], "TERMINATE them first"),
    err("drop of an unknown stream", ["DROP STREAM NOPE;"], "stream NOPE does not exist"),
    err("terminate an unknown query", ["TERMINATE CSAS_NOPE_0;"], "unknown query id CSAS_NOPE_0"),
    err("limit in a persistent query", [SRC, "CREATE STREAM OUTPUT AS SELECT * FROM INPUT LIMIT 1;"], "LIMIT is only allowed in push and pull queries"),
    err("duplicate output column", [SRC, "CREATE STREAM OUTPUT AS SELECT ID, NAME, AMOUNT AS NAME FROM INPUT;"], "duplicate value column name 'NAME'"),
    err("variable not defined", ["CREATE STREAM S (A INT) WITH (kafka_topic='${TOPIC}', value_format='JSON', partitions=1);"], "variable TOPIC is not defined"),
    err("lambda arity", [SRC, "CREATE STREAM OUTPUT AS SELECT ID, REDUCE(ARRAY[1], 0, x => x) FROM INPUT;"], "this lambda takes 2 parameters, not 1"),
    err("mixed array types", [SRC, "CREATE STREAM OUTPUT AS SELECT ID, ARRAY[1, 'a'] FROM INPUT;"], "ARRAY mixes types INTEGER and STRING"),
    err("a stream from an aggregation", [SRC, "CREATE STREAM OUTPUT AS SELECT NAME, COUNT(*) FROM INPUT GROUP BY NAME;"], "Your SELECT query produces a TABLE. Please use CREATE TABLE AS SELECT"),
    err("a table from a projection", [SRC, "CREATE TABLE OUTPUT AS SELECT ID, NAME FROM INPUT;"], "Your SELECT query produces a STREAM"),
    err("a column neither grouped nor aggregated", [SRC, "CREATE TABLE OUTPUT AS SELECT NAME, AMOUNT, COUNT(*) FROM INPUT GROUP BY NAME;"], "line 2:37: Non-aggregate SELECT expression(s) not part of GROUP BY: AMOUNT"),
    err("aggregate in WHERE", [SRC, "CREATE TABLE OUTPUT AS SELECT NAME, COUNT(*) FROM INPUT WHERE COUNT(*) > 1 GROUP BY NAME;"], "aggregate function COUNT is only allowed in the select list and HAVING"),
    err("nested aggregates", [SRC, "CREATE TABLE OUTPUT AS SELECT NAME, SUM(COUNT(*)) FROM INPUT GROUP BY NAME;"], "aggregate functions cannot be nested"),
    err("grouping key not projected", [SRC, "CREATE TABLE OUTPUT AS SELECT COUNT(*) AS N FROM INPUT GROUP BY NAME;"], "must include the grouping expression NAME in its projection"),
    err("aggregate of the wrong type", [SRC, "CREATE TABLE OUTPUT AS SELECT NAME, SUM(NAME) FROM INPUT GROUP BY NAME;"], "Function 'sum' does not accept parameters (STRING)"),
    err("having must be boolean", [SRC, "CREATE TABLE OUTPUT AS SELECT NAME, COUNT(*) FROM INPUT GROUP BY NAME HAVING COUNT(*);"], "HAVING needs a BOOLEAN expression"),
    err("window without group by", [SRC, "CREATE TABLE OUTPUT AS SELECT NAME, COUNT(*) FROM INPUT WINDOW TUMBLING (SIZE 1 HOUR);"], "WINDOW needs GROUP BY"),
]
files["statements"] = [
    {"name": "define and use variables",
     "statements": ["DEFINE topic = 'input';", "DEFINE fmt = 'JSON';",
                    "CREATE STREAM INPUT (ID BIGINT KEY, NAME STRING) WITH (kafka_topic='${topic}', value_format='${fmt}');",
                    "CREATE STREAM OUTPUT AS SELECT ID, NAME FROM INPUT;"],
     "inputs": [rec({"NAME": "a"})], "outputs": [out({"NAME": "a"})]},
    {"name": "create if not exists twice",
     "statements": [SRC, SRC.replace("CREATE STREAM", "CREATE STREAM IF NOT EXISTS"), "CREATE STREAM OUTPUT AS SELECT ID, NAME FROM INPUT;"],
     "inputs": [rec({"NAME": "a"})], "outputs": [out({"NAME": "a"})]},
    {"name": "sink topic and partitions from WITH",
     "statements": [SRC, "CREATE STREAM OUTPUT WITH (kafka_topic='out_topic', partitions=3) AS SELECT ID, NAME FROM INPUT;"],
     "inputs": [rec({"NAME": "a"}, k=None)], "outputs": [out({"NAME": "a"}, k=None, topic="out_topic")]},
    {"name": "sink timestamp column",
     "statements": ["CREATE STREAM INPUT (ID BIGINT KEY, T BIGINT) WITH (kafka_topic='input', value_format='JSON');",
                    "CREATE STREAM OUTPUT WITH (timestamp='T2') AS SELECT ID, T + 1 AS T2 FROM INPUT;"],
     "inputs": [rec({"T": 100}, ts=5)], "outputs": [out({"T2": 101}, ts=101)]},
    {"name": "source timestamp column sets rowtime",
     "statements": ["CREATE STREAM INPUT (ID BIGINT KEY, T BIGINT) WITH (kafka_topic='input', value_format='JSON', timestamp='T');",
                    "CREATE STREAM OUTPUT AS SELECT ID, ROWTIME AS RT FROM INPUT;"],
     "inputs": [rec({"T": 500}, ts=5)], "outputs": [out({"RT": 500}, ts=500)]},
    {"name": "chained queries",
     "statements": [SRC, "CREATE STREAM MID AS SELECT ID, AMOUNT * 2 AS A FROM INPUT;",
                    "CREATE STREAM OUTPUT AS SELECT ID, A + 1 AS B FROM MID WHERE A > 2;"],
     "inputs": [rec({"AMOUNT": 1}), rec({"AMOUNT": 5})], "outputs": [out({"B": 11})]},
    {"name": "terminate then drop",
     "statements": [SRC, "CREATE STREAM OUTPUT AS SELECT * FROM INPUT;", "TERMINATE ALL;", "DROP STREAM OUTPUT;", "DROP STREAM INPUT;",
                    SRC, "CREATE STREAM OUTPUT AS SELECT ID, NAME FROM INPUT;"],
     "inputs": [rec({"NAME": "z"})], "outputs": [out({"NAME": "z"})]},
    {"name": "quoted identifiers keep case",
     "statements": ["CREATE STREAM INPUT (ID BIGINT KEY, `camelCase` STRING) WITH (kafka_topic='input', value_format='JSON');",
                    "CREATE STREAM OUTPUT AS SELECT ID, `camelCase` FROM INPUT;"],
     "inputs": [rec({"camelCase": "c"})], "outputs": [out({"camelCase": "c"})]},
    {"name": "set earliest then query sees earlier input",
     "statements": [SRC, "SET 'auto.offset.reset' = 'earliest';", "CREATE STREAM OUTPUT AS SELECT ID, NAME FROM INPUT;"],
     "inputs": [rec({"NAME": "a"})], "outputs": [out({"NAME": "a"})]},
]

# ---- built-in functions ----------------------------------------------------------------------
S = {"NAME": "  Hello World  ", "AMOUNT": -7, "PRICE": 2.567}
files["functions_string"] = expr_cases("fn string", [
    ("UCASE(NAME)", S, "  HELLO WORLD  "), ("LCASE(NAME)", S, "  hello world  "), ("TRIM(NAME)", S, "Hello World"),
    ("LTRIM(NAME)", S, "Hello World  "), ("RTRIM(NAME)", S, "  Hello World"), ("LEN(NAME)", S, 15),
    ("LEN(TRIM(NAME))", S, 11), ("SUBSTRING(TRIM(NAME), 1, 5)", S, "Hello"), ("SUBSTRING(TRIM(NAME), 7)", S, "World"),
    ("SUBSTRING(TRIM(NAME), -5)", S, "World"), ("SUBSTRING(TRIM(NAME), -5, 2)", S, "Wo"), ("SUBSTRING('abc', 10)", S, ""),
    ("CONCAT('a', 'b', 'c')", S, "abc"), ("CONCAT('a', CAST(NULL AS STRING), 'c')", S, "ac"), ("CONCAT_WS('-', 'a', 'b')", S, "a-b"),
    ("LPAD('7', 3, '0')", S, "007"), ("RPAD('ab', 5, 'xy')", S, "abxyx"), ("LPAD('abcdef', 3, '0')", S, "abc"),
    ("REPLACE(TRIM(NAME), 'l', 'L')", S, "HeLLo WorLd"), ("INSTR('hello', 'l')", S, 3), ("INSTR('hello', 'z')", S, 0),
    ("INSTR('hello', 'l', 1, 2)", S, 4), ("INITCAP('hello wORLD')", S, "Hello World"), ("MASK('Ab1-')", S, "Xxn-"),
    ("MASK_LEFT('abcdef', 2)", S, "xxcdef"), ("MASK_RIGHT('abcdef', 2)", S, "abcdxx"), ("MASK_KEEP_LEFT('abcdef', 2)", S, "abxxxx"),
    ("MASK_KEEP_RIGHT('abcdef', 2)", S, "xxxxef"), ("SPLIT('a,b,,c', ',')", S, ["a", "b", "", "c"]), ("SPLIT('ab', '')", S, ["a", "b"]),
    ("REGEXP_EXTRACT('abc123def', '[0-9]+')", S, "123"), ("REGEXP_EXTRACT('abc123def', '([a-z]+)([0-9]+)', 2)", S, "123"),
    ("REGEXP_EXTRACT('abc', '[0-9]+')", S, None), ("REGEXP_REPLACE('a1b22c', '[0-9]+', '#')", S, "a#b#c"),
    ("REGEXP_EXTRACT_ALL('a1b22c333', '[0-9]+')", S, ["1", "22", "333"]), ("REGEXP_SPLIT_TO_ARRAY('a1b22c', '[0-9]+')", S, ["a", "b", "c"]),
    ("EXTRACTJSONFIELD('{\"a\":{\"b\":[1,\"x\"]}}', '$.a.b[1]')", S, "x"), ("EXTRACTJSONFIELD('{\"a\":{\"b\":2}}', '$.a')", S, "{\"b\":2}"),
    ("EXTRACTJSONFIELD('{\"a\":1}', '$.z')", S, None), ("ENCODE('hello', 'utf8', 'hex')", S, "68656c6c6f"),
    ("ENCODE('68656c6c6f', 'hex', 'base64')", S, "aGVsbG8="), ("ENCODE('aGVsbG8=', 'base64', 'utf8')", S, "hello"),
    ("ELT(2, 'a', 'b', 'c')", S, "b"), ("ELT(5, 'a')", S, None), ("FIELD('b', 'a', 'b')", S, 2), ("FIELD('z', 'a')", S, 0),
])
files["functions_math"] = expr_cases("fn math", [
    ("ABS(AMOUNT)", S, 7), ("ABS(-2.5)", S, 2.5), ("ROUND(PRICE)", S, 3), ("ROUND(PRICE, 2)", S, 2.57), ("ROUND(2.5)", S, 3),
    ("ROUND(-2.5)", S, -3), ("ROUND(1.234, 1)", S, 1.2), ("FLOOR(PRICE)", S, 2.0), ("CEIL(PRICE)", S, 3.0), ("FLOOR(-1.5)", S, -2.0),
    ("SQRT(16)", S, 4.0), ("POWER(2, 10)", S, 1024.0), ("EXP(0)", S, 1.0), ("LN(1)", S, 0.0), ("LOG(10, 100)", S, 2.0),
    ("SIGN(AMOUNT)", S, -1), ("SIGN(0)", S, 0), ("GREATEST(1, 5, 3)", S, 5), ("LEAST(1, 5, 3)", S, 1), ("GREATEST(1, 2.5)", S, 2.5),
    ("GREATEST(AMOUNT, CAST(NULL AS INT))", S, -7), ("CBRT(27)", S, 3.0), ("DEGREES(0)", S, 0.0),
])
files["functions_null"] = expr_cases("fn null", [
    ("COALESCE(CAST(NULL AS STRING), 'b')", S, "b"), ("COALESCE(CAST(NULL AS INT), AMOUNT, 1)", S, -7),
    ("COALESCE(CAST(NULL AS INT), CAST(NULL AS INT))", S, None), ("IFNULL(CAST(NULL AS STRING), 'x')", S, "x"),
    ("IFNULL('y', 'x')", S, "y"), ("NULLIF(AMOUNT, -7)", S, None), ("NULLIF(AMOUNT, 1)", S, -7), ("COALESCE(1, 2.5)", S, 1.0),
])
files["functions_collection"] = expr_cases("fn collection", [
    ("ARRAY_LENGTH(ARRAY[1, 2, 3])", S, 3), ("ARRAY_CONTAINS(ARRAY[1, 2], 2)", S, True), ("ARRAY_CONTAINS(ARRAY[1, 2], 5)", S, False),
    ("ARRAY_DISTINCT(ARRAY[1, 2, 1, 3, 2])", S, [1, 2, 3]), ("ARRAY_JOIN(ARRAY[1, 2, 3])", S, "1,2,3"), ("ARRAY_JOIN(ARRAY['a', 'b'], '|')", S, "a|b"),
    ("ARRAY_SORT(ARRAY[3, 1, 2])", S, [1, 2, 3]), ("ARRAY_SORT(ARRAY[3, 1, 2], 'DESC')", S, [3, 2, 1]), ("ARRAY_MAX(ARRAY[3, 9, 2])", S, 9),
    ("ARRAY_MIN(ARRAY[3, 9, 2])", S, 2), ("ARRAY_REMOVE(ARRAY[1, 2, 1], 1)", S, [2]), ("ARRAY_CONCAT(ARRAY[1], ARRAY[2, 3])", S, [1, 2, 3]),
    ("SLICE(ARRAY[1, 2, 3, 4], 2, 3)", S, [2, 3]), ("MAP_KEYS(MAP('a' := 1, 'b' := 2))", S, ["a", "b"]),
    ("MAP_VALUES(MAP('a' := 1, 'b' := 2))", S, [1, 2]), ("AS_MAP(ARRAY['a', 'b'], ARRAY[1, 2])", S, {"a": 1, "b": 2}),
])
files["functions_date"] = expr_cases("fn date", [
    ("TIMESTAMPTOSTRING(1600000000123, 'yyyy-MM-dd HH:mm:ss.SSS')", S, "2020-09-13 12:26:40.123"),
    ("TIMESTAMPTOSTRING(1600000000000, 'yyyy-MM-dd''T''HH:mm', '+02:00')", S, "2020-09-13T14:26"),
    ("TIMESTAMPTOSTRING(0, 'dd MMM yyyy')", S, "01 Jan 1970"),
    ("STRINGTOTIMESTAMP('2020-09-13 12:26:40', 'yyyy-MM-dd HH:mm:ss')", S, 1600000000000),
    ("STRINGTOTIMESTAMP('2020-09-13 14:26:40', 'yyyy-MM-dd HH:mm:ss', 'UTC+2')", S, 1600000000000),
    ("STRINGTOTIMESTAMP('nope', 'yyyy-MM-dd')", S, None),
    ("FORMAT_TIMESTAMP(FROM_UNIXTIME(1600000000000), 'yyyy-MM-dd')", S, "2020-09-13"),
    ("UNIX_TIMESTAMP(PARSE_TIMESTAMP('2020-09-13T12:26:40Z', 'yyyy-MM-dd''T''HH:mm:ssX'))", S, 1600000000000),
    ("FORMAT_DATE(PARSE_DATE('2021-03-04', 'yyyy-MM-dd'), 'dd/MM/yyyy')", S, "04/03/2021"),
    ("FORMAT_DATE(DATEADD('DAYS', 30, PARSE_DATE('2021-03-04', 'yyyy-MM-dd')), 'yyyy-MM-dd')", S, "2021-04-03"),
    ("UNIX_TIMESTAMP(TIMESTAMPADD('HOURS', 2, FROM_UNIXTIME(0)))", S, 7200000),
    ("UNIX_TIMESTAMP(TIMESTAMPSUB('SECONDS', 1, FROM_UNIXTIME(0)))", S, -1000),
    ("UNIX_TIMESTAMP(CONVERT_TZ(FROM_UNIXTIME(0), 'UTC', '+01:00'))", S, 3600000),
    ("UNIX_DATE(PARSE_DATE('1970-01-11', 'yyyy-MM-dd'))", S, 10),
    ("TIMESTAMPTOSTRING(1600000000000, 'yyyy-MM-dd HH:mm XXX', 'America/Los_Angeles')", S, "2020-09-13 05:26 -07:00"),
    ("TIMESTAMPTOSTRING(1577836800000, 'yyyy-MM-dd HH:mm', 'America/Los_Angeles')", S, "2019-12-31 16:00"),
    ("STRINGTOTIMESTAMP('2020-03-08 03:30', 'yyyy-MM-dd HH:mm', 'America/Los_Angeles')", S, 1583663400000),
    ("UNIX_TIMESTAMP(CONVERT_TZ(FROM_UNIXTIME(0), 'UTC', 'Asia/Kolkata'))", S, 19800000),
    ("TIMESTAMPTOSTRING(0, 'yyyy', 'Mars/Olympus_Mons')", S, None),
    ("TIMESTAMPTOSTRING(0, 'HH:mm', '../../etc/passwd')", S, None),
])
XSRC = ("CREATE STREAM INPUT (ID BIGINT KEY, TAGS ARRAY<STRING>, N INT) "
        "WITH (kafka_topic='input', value_format='JSON');")
files["explode"] = [
    {"name": "explode an array column into rows",
     "statements": [XSRC, "CREATE STREAM OUTPUT AS SELECT ID, EXPLODE(TAGS) AS TAG, N FROM INPUT;"],
     "inputs": [rec({"TAGS": ["a", "b", "c"], "N": 1})],
     "outputs": [out({"TAG": "a", "N": 1}), out({"TAG": "b", "N": 1}), out({"TAG": "c", "N": 1})]},
    {"name": "explode of an empty or null array gives no row",
     "statements": [XSRC, "CREATE STREAM OUTPUT AS SELECT ID, EXPLODE(TAGS) AS TAG FROM INPUT;"],
     "inputs": [rec({"TAGS": []}), rec({"TAGS": None}), rec({"TAGS": ["x"]}, k=2)],
     "outputs": [out({"TAG": "x"}, k=2)]},
    {"name": "explode of an expression, with a filter",
     "statements": [XSRC, "CREATE STREAM OUTPUT AS SELECT ID, EXPLODE(ARRAY[N, N * 10]) AS V FROM INPUT WHERE N > 1;"],
     "inputs": [rec({"N": 1}), rec({"N": 2}, k=2)],
     "outputs": [out({"V": 2}, k=2), out({"V": 20}, k=2)]},
    err("explode of a non-array", [XSRC, "CREATE STREAM OUTPUT AS SELECT ID, EXPLODE(N) AS V FROM INPUT;"], "Function 'explode' does not accept parameters (INTEGER)"),
    err("two table functions", [XSRC, "CREATE STREAM OUTPUT AS SELECT ID, EXPLODE(TAGS) AS A, EXPLODE(TAGS) AS B FROM INPUT;"], "only one table function per query"),
]
files["function_errors"] = [
    err("wrong argument types", [SRC, "CREATE STREAM OUTPUT AS SELECT ID, UCASE(AMOUNT) FROM INPUT;"], "Function 'ucase' does not accept parameters (INTEGER).\nValid alternatives are:\nUCASE(STRING) -> STRING"),
    err("wrong argument count", [SRC, "CREATE STREAM OUTPUT AS SELECT ID, SUBSTRING(NAME) FROM INPUT;"], "Function 'substring' does not accept parameters (STRING)"),
    err("invalid constant regular expression", [SRC, "CREATE STREAM OUTPUT AS SELECT ID, REGEXP_EXTRACT(NAME, '(') FROM INPUT;"], "invalid regular expression"),
    err("GREATEST needs a common type", [SRC, "CREATE STREAM OUTPUT AS SELECT ID, GREATEST(1, 'a') FROM INPUT;"], "must have a common type"),
]

# ---- functions over empty, null and null-element collections (issue 27: ARRAY_SORT of the keys
# of a null map crashed the server); each record's row comes out, and later records still do ----
MSRC = ("CREATE STREAM INPUT (ID BIGINT KEY, M MAP<STRING, INT>, A ARRAY<DOUBLE>) "
        "WITH (kafka_topic='input', value_format='JSON');")
HOSTILE_IN = [{"M": None, "A": None}, {"M": {}, "A": []}, {"M": {"b": None, "a": 1}, "A": [None, 2.5, -1.0]},
              {"M": {"z": 3}, "A": [None]}]
def hostile(name, select, want):
    return proj(f"hostile {name}: {select}", f"ID, {select} AS R", [rec(v, k=i) for i, v in enumerate(HOSTILE_IN)],
                [out({"R": w}, k=i) for i, w in enumerate(want)], src=MSRC)
files["function_hostile"] = [
    hostile("sort keys", "ARRAY_SORT(MAP_KEYS(M))", [None, [], ["a", "b"], ["z"]]),
    hostile("sort values", "ARRAY_SORT(MAP_VALUES(M))", [None, [], [1, None], [3]]),
    hostile("sort values desc", "ARRAY_SORT(MAP_VALUES(M), 'DESCENDING')", [None, [], [1, None], [3]]),
    hostile("sort bad direction", "ARRAY_SORT(A, 'sideways')", [None, None, None, None]),
    hostile("sort array", "ARRAY_SORT(A, 'desc')", [None, [], [2.5, -1.0, None], [None]]),
    hostile("min of keys", "ARRAY_MIN(MAP_KEYS(M))", [None, None, "a", "z"]),
    hostile("max of values", "ARRAY_MAX(MAP_VALUES(M))", [None, None, 1, 3]),
    hostile("join", "ARRAY_JOIN(ARRAY_SORT(MAP_KEYS(M)), '-')", [None, "", "a-b", "z"]),
    hostile("remove", "ARRAY_REMOVE(A, 2.5)", [None, [], [None, -1.0], [None]]),
    hostile("contains", "ARRAY_CONTAINS(MAP_VALUES(M), 1)", [False, False, True, False]),
    hostile("distinct", "ARRAY_DISTINCT(MAP_VALUES(M))", [None, [], [None, 1], [3]]),
    hostile("slice empty then sort", "ARRAY_SORT(SLICE(A, 5, 9))", [None, [], [], []]),
]

files["timestamps"] = [
    {"name": "timestamp from a string column with TIMESTAMP_FORMAT",
     "statements": ["CREATE STREAM INPUT (ID BIGINT KEY, T STRING) WITH (kafka_topic='input', value_format='JSON', timestamp='T', timestamp_format='yyyy-MM-dd HH:mm:ss');",
                    "CREATE STREAM OUTPUT AS SELECT ID, ROWTIME AS RT FROM INPUT;"],
     "inputs": [rec({"T": "2020-09-13 12:26:40"}, ts=5), rec({"T": "not a time"}, k=2), rec({"T": "1970-01-01 00:00:01"}, k=3)],
     "outputs": [out({"RT": 1600000000000}, ts=1600000000000), out({"RT": 1000}, k=3, ts=1000)]},
    {"name": "timestamp format with an offset in the text",
     "statements": ["CREATE STREAM INPUT (ID BIGINT KEY, T STRING) WITH (kafka_topic='input', value_format='JSON', timestamp='T', timestamp_format='yyyy-MM-dd''T''HH:mm:ssX');",
                    "CREATE STREAM OUTPUT AS SELECT ID FROM INPUT;"],
     "inputs": [rec({"T": "2020-09-13T14:26:40+02:00"})], "outputs": [out({}, ts=1600000000000)]},
    err("timestamp column of the wrong type", ["CREATE STREAM INPUT (ID BIGINT KEY, T BOOLEAN) WITH (kafka_topic='input', value_format='JSON', timestamp='T');"], "TIMESTAMP column T must be BIGINT or TIMESTAMP"),
    err("string timestamp without a format", ["CREATE STREAM INPUT (ID BIGINT KEY, T STRING) WITH (kafka_topic='input', value_format='JSON', timestamp='T');"], "TIMESTAMP column T must be BIGINT or TIMESTAMP"),
    err("unknown timestamp column", ["CREATE STREAM INPUT (ID BIGINT KEY, T BIGINT) WITH (kafka_topic='input', value_format='JSON', timestamp='NOPE');"], "the TIMESTAMP column NOPE does not exist"),
    err("bad timestamp format", ["CREATE STREAM INPUT (ID BIGINT KEY, T STRING) WITH (kafka_topic='input', value_format='JSON', timestamp='T', timestamp_format='yyyy-qq');"], "invalid TIMESTAMP_FORMAT"),
]

HSRC = ("CREATE STREAM INPUT (ID BIGINT KEY, V INT, HS ARRAY<STRUCT<KEY STRING, VALUE BYTES>> HEADERS, "
        "TRACE BYTES HEADER('trace')) WITH (kafka_topic='input', value_format='JSON');")
def hrec(v, headers, k=1):
    r = rec(v, k=k)
    r["headers"] = headers
    return r
files["headers"] = [
    {"name": "headers and one header as columns",
     "statements": [HSRC, "CREATE STREAM OUTPUT AS SELECT ID, V, HS, TRACE FROM INPUT;"],
     "inputs": [hrec({"V": 1}, [{"KEY": "trace", "VALUE": "YWJj"}, {"KEY": "other", "VALUE": None}])],
     "outputs": [out({"V": 1, "HS": [{"KEY": "trace", "VALUE": "YWJj"}, {"KEY": "other", "VALUE": None}], "TRACE": "YWJj"})]},
    {"name": "a missing header is null, the last of several wins",
     "statements": [HSRC, "CREATE STREAM OUTPUT AS SELECT ID, TRACE FROM INPUT;"],
     "inputs": [hrec({"V": 1}, []), hrec({"V": 2}, [{"KEY": "trace", "VALUE": "eA=="}, {"KEY": "trace", "VALUE": "eQ=="}], k=2)],
     "outputs": [out({"TRACE": None}), out({"TRACE": "eQ=="}, k=2)]},
    {"name": "header values in expressions",
     "statements": [HSRC, "CREATE STREAM OUTPUT AS SELECT ID, ARRAY_LENGTH(HS) AS N, HS[1]->KEY AS K FROM INPUT WHERE TRACE IS NOT NULL;"],
     "inputs": [hrec({"V": 1}, [{"KEY": "trace", "VALUE": "YQ=="}]), hrec({"V": 2}, [], k=2)],
     "outputs": [out({"N": 1, "K": "trace"})]},
    err("headers column of the wrong type", ["CREATE STREAM S (ID BIGINT KEY, H ARRAY<STRING> HEADERS) WITH (kafka_topic='input', value_format='JSON');"], "HEADERS column H must be ARRAY<STRUCT<KEY STRING, VALUE BYTES>>"),
    err("header column of the wrong type", ["CREATE STREAM S (ID BIGINT KEY, H STRING HEADER('h')) WITH (kafka_topic='input', value_format='JSON');"], "HEADER('h') column H must be BYTES"),
    err("insert into a header column", [HSRC, "INSERT INTO INPUT (ID, TRACE) VALUES (1, 'x');"], "cannot insert into HEADER column TRACE"),
]

files["replace"] = [
    {"name": "create or replace a stream adds a column",
     "statements": [SRC, SRC.replace("CREATE STREAM INPUT (ID BIGINT KEY, NAME STRING, AMOUNT INT, PRICE DOUBLE)",
                                     "CREATE OR REPLACE STREAM INPUT (ID BIGINT KEY, NAME STRING, AMOUNT INT, PRICE DOUBLE, NOTE STRING)"),
                    "CREATE STREAM OUTPUT AS SELECT ID, NOTE FROM INPUT;"],
     "inputs": [rec({"NOTE": "n"})], "outputs": [out({"NOTE": "n"})]},
    {"name": "create or replace a query keeps its id and offsets and may add a column",
     "statements": [SRC, "CREATE STREAM OUTPUT AS SELECT ID, NAME FROM INPUT;",
                    "CREATE OR REPLACE STREAM OUTPUT AS SELECT ID, NAME, AMOUNT FROM INPUT WHERE AMOUNT > 1;"],
     "inputs": [rec({"NAME": "a", "AMOUNT": 1}), rec({"NAME": "b", "AMOUNT": 2}, k=2)],
     "outputs": [out({"NAME": "b", "AMOUNT": 2}, k=2)]},
    err("replace may not drop a column", [SRC, SRC.replace("CREATE STREAM INPUT (ID BIGINT KEY, NAME STRING, AMOUNT INT, PRICE DOUBLE)",
                                                           "CREATE OR REPLACE STREAM INPUT (ID BIGINT KEY, NAME STRING, AMOUNT INT)")],
        "cannot upgrade INPUT: column PRICE cannot be removed"),
    err("replace may not change a type", [SRC, SRC.replace("CREATE STREAM INPUT (ID BIGINT KEY, NAME STRING, AMOUNT INT, PRICE DOUBLE)",
                                                           "CREATE OR REPLACE STREAM INPUT (ID BIGINT KEY, NAME STRING, AMOUNT BIGINT, PRICE DOUBLE)")],
        "cannot upgrade INPUT: column AMOUNT cannot be removed, renamed, retyped"),
    err("replace may not add a key", [SRC, SRC.replace("CREATE STREAM INPUT (ID BIGINT KEY, NAME STRING, AMOUNT INT, PRICE DOUBLE)",
                                                       "CREATE OR REPLACE STREAM INPUT (ID BIGINT KEY, K2 INT KEY, NAME STRING, AMOUNT INT, PRICE DOUBLE)")],
        "KAFKA"),
    err("replace a source a query reads", [SRC, "CREATE STREAM OUTPUT AS SELECT * FROM INPUT;",
                                           SRC.replace("CREATE STREAM INPUT", "CREATE OR REPLACE STREAM INPUT")],
        "cannot replace INPUT while queries read from or write into it"),
    err("replace a query with a narrower sink", [SRC, "CREATE STREAM OUTPUT AS SELECT ID, NAME, AMOUNT FROM INPUT;",
                                                 "CREATE OR REPLACE STREAM OUTPUT AS SELECT ID, NAME FROM INPUT;"],
        "cannot upgrade OUTPUT: column AMOUNT cannot be removed"),
]

# ---- aggregations ---------------------------------------------------------------------------
# The expected rows come from a small model of ksqlDB's semantics written here, independent of
# the C code: every update emits the group's new row (EMIT CHANGES, no caching), the output
# timestamp is the largest event time of the group's rows, windows drop records that arrive
# once their window end + grace is at or behind stream time.
import math

def agg_value(fn, vals, arg=None):
    """ksqlDB's result of aggregate fn over the group's argument values (arrival order)."""
    nn = [v for v in vals if v is not None]
    if fn == "COUNT(*)": return len(vals)
    if fn == "COUNT": return len(nn)
    if fn == "SUM": return sum(nn) if nn else 0
    if fn == "AVG": return (sum(nn) / len(nn)) if nn else 0.0
    if fn == "MIN": return min(nn) if nn else None
    if fn == "MAX": return max(nn) if nn else None
    if fn == "COUNT_DISTINCT": return len(set(nn))
    if fn == "COLLECT_LIST": return nn[:1000]
    if fn == "COLLECT_SET":
        out = []
        for v in nn:
            if v not in out: out.append(v)
        return out
    if fn == "LATEST_BY_OFFSET": return nn[-1] if nn else None
    if fn == "EARLIEST_BY_OFFSET": return nn[0] if nn else None
    if fn == "TOPK": return sorted(nn, reverse=True)[:arg]
    if fn == "TOPKDISTINCT": return sorted(set(nn), reverse=True)[:arg]
    if fn == "HISTOGRAM":
        h = {}
        for v in nn: h[v] = h.get(v, 0) + 1
        return h
    if fn == "STDDEV_SAMP":
        if len(nn) < 2: return 0.0
        m = sum(nn) / len(nn)
        return math.sqrt(sum((x - m) ** 2 for x in nn) / (len(nn) - 1))
    raise ValueError(fn)

def call(fn, col, arg=None):
    if fn == "COUNT(*)": return "COUNT(*)"
    return f"{fn}({col}{', ' + str(arg) if arg is not None else ''})"

ASRC = ("CREATE STREAM INPUT (ID BIGINT KEY, NAME STRING, AMOUNT INT, PRICE DOUBLE) "
        "WITH (kafka_topic='input', value_format='JSON');")

def model(rows, fns, window=None, having=None, where=None, part=None):
    """rows: (name, amount, price, ts); fns: [(fn, col, arg)]; window: None or
    ("T", size, grace) / ("H", size, advance, grace). Returns the emitted records. part: the
    source is repartitioned by NAME, and part(name) is a group's partition there: null names
    are dropped before it, and each partition (task) has its own stream time."""
    groups, outs, times = {}, [], {}
    for name, amount, price, ts in rows:
        if part and name is None:
            continue
        if where and not where(amount):
            continue
        p = part(name) if part else 0
        times[p] = stream_time = max(times.get(p, -1), ts)
        if name is None:
            continue
        wins = [None]
        if window:
            size, adv, grace = (window[1], window[1], window[2]) if window[0] == "T" else window[1:]
            first = max(0, ts - size + adv) // adv * adv
            wins = [(s, s + size) for s in range(first, ts + 1, adv)]
        for w in wins:
            if w and w[1] + grace <= stream_time:
                continue
            g = groups.setdefault((name, w), {"rows": [], "ts": -1})
            g["rows"].append({"NAME": name, "AMOUNT": amount, "PRICE": price})
            g["ts"] = max(g["ts"], ts)
            v = {}
            for i, (fn, col, arg) in enumerate(fns):
                v[f"A{i}"] = agg_value(fn, [r[col] if col else 1 for r in g["rows"]], arg)
            o = {"topic": "OUTPUT", "key": name, "value": v, "timestamp": g["ts"]}
            if having and not having(v):
                o["value"] = None
            if w:
                o["window"] = {"start": w[0], "end": w[1], "type": "time"}
            outs.append(o)
    return outs

def str_part(key, parts):
    """The partition of a STRING key in the KAFKA format (its UTF-8 bytes)."""
    return (join_cases.murmur2(key.encode()) & 0x7FFFFFFF) % parts

def by_str_part(outs, parts):
    """Outputs as weir-qtt reads them back: partition by partition, in order within each."""
    return sorted(outs, key=lambda o: str_part(o["key"], parts))

def agg_case(name, fns, rows, window=None, having=None, having_sql=None, where=None, where_fn=None, parts=None):
    sel = ", ".join(f"{call(fn, col, arg)} AS A{i}" for i, (fn, col, arg) in enumerate(fns))
    win = ""
    if window and window[0] == "T":
        win = f" WINDOW TUMBLING (SIZE {window[1]} MILLISECONDS, GRACE PERIOD {window[2]} MILLISECONDS)"
    elif window:
        win = f" WINDOW HOPPING (SIZE {window[1]} MILLISECONDS, ADVANCE BY {window[2]} MILLISECONDS, GRACE PERIOD {window[3]} MILLISECONDS)"
    q = (f"CREATE TABLE OUTPUT AS SELECT NAME, {sel} FROM INPUT{win}" + (f" WHERE {where}" if where else "") +
         f" GROUP BY NAME" + (f" HAVING {having_sql}" if having_sql else "") + ";")
    inputs = [{"topic": "input", "key": i, "value": {"NAME": n, "AMOUNT": a, "PRICE": p}, "timestamp": ts}
              for i, (n, a, p, ts) in enumerate(rows)]
    if not parts:
        return {"name": name, "statements": [ASRC, q], "inputs": inputs,
                "outputs": model(rows, fns, window, having, where_fn)}
    part = lambda n: str_part(n, parts)
    return {"name": name, "statements": [ASRC, q], "inputs": inputs,
            "topics": [{"name": "input", "partitions": parts}],
            "outputs": by_str_part(model(rows, fns, window, having, where_fn, part), parts)}

D1 = [("a", 1, 1.5, 10), ("b", 2, 2.5, 20), ("a", 3, None, 30), ("a", None, 4.0, 40), ("b", 5, 0.5, 50)]
D2 = [("x", 7, 1.0, 5), ("x", 7, 2.0, 6), ("x", -3, 3.0, 7), ("y", 0, None, 8), ("x", 10, 4.0, 9)]
D3 = [("k", i % 4, float(i) / 2, i * 10) for i in range(8)]
FNS = [("COUNT(*)", None, None), ("COUNT", "AMOUNT", None), ("SUM", "AMOUNT", None), ("SUM", "PRICE", None),
       ("AVG", "AMOUNT", None), ("AVG", "PRICE", None), ("MIN", "AMOUNT", None), ("MAX", "AMOUNT", None),
       ("MIN", "NAME", None), ("MAX", "PRICE", None), ("COUNT_DISTINCT", "AMOUNT", None),
       ("COLLECT_LIST", "AMOUNT", None), ("COLLECT_SET", "AMOUNT", None), ("LATEST_BY_OFFSET", "AMOUNT", None),
       ("EARLIEST_BY_OFFSET", "AMOUNT", None), ("TOPK", "AMOUNT", 2), ("TOPKDISTINCT", "AMOUNT", 2),
       ("HISTOGRAM", "NAME", None), ("STDDEV_SAMP", "PRICE", None), ("COLLECT_LIST", "NAME", None)]
cases = []
for d, dn in ((D1, "d1"), (D2, "d2"), (D3, "d3")):
    for fn, col, arg in FNS:
        cases.append(agg_case(f"{call(fn, col, arg)} over {dn}", [(fn, col, arg)], d))
cases += [
    agg_case("several aggregates in one query", [("COUNT(*)", None, None), ("SUM", "AMOUNT", None), ("MAX", "PRICE", None)], D1),
    agg_case("WHERE before the aggregation", [("COUNT(*)", None, None)], D1, where="AMOUNT > 1", where_fn=lambda a: a is not None and a > 1),
    agg_case("null group keys are dropped", [("COUNT(*)", None, None)], [("a", 1, 1.0, 1), (None, 2, 2.0, 2), ("a", 3, 3.0, 3)]),
    agg_case("HAVING passes and fails (tombstones)", [("COUNT(*)", None, None)], D1, having=lambda v: v["A0"] > 1, having_sql="COUNT(*) > 1"),
    agg_case("HAVING on a SUM", [("SUM", "AMOUNT", None)], D2, having=lambda v: v["A0"] >= 14, having_sql="SUM(AMOUNT) >= 14"),
    agg_case("HAVING on an AVG", [("AVG", "PRICE", None)], D3, having=lambda v: v["A0"] < 1.0, having_sql="AVG(PRICE) < 1.0"),
]
for size, grace in ((10, 0), (10, 5), (20, 100), (5, 0)):
    for d, dn in ((D1, "d1"), (D2, "d2"), (D3, "d3")):
        cases.append(agg_case(f"tumbling {size} grace {grace} over {dn}", [("COUNT(*)", None, None), ("SUM", "AMOUNT", None)], d, window=("T", size, grace)))
for size, adv, grace in ((20, 10, 0), (30, 10, 5), (10, 5, 100)):
    for d, dn in ((D1, "d1"), (D2, "d2"), (D3, "d3")):
        cases.append(agg_case(f"hopping {size}/{adv} grace {grace} over {dn}", [("COUNT(*)", None, None), ("MAX", "AMOUNT", None)], d, window=("H", size, adv, grace)))
LATE = [("a", 1, 1.0, 100), ("a", 2, 2.0, 5), ("a", 3, 3.0, 95), ("a", 4, 4.0, 150), ("a", 5, 5.0, 99)]
cases += [
    agg_case("late records beyond the grace period are dropped", [("COUNT(*)", None, None)], LATE, window=("T", 10, 0)),
    agg_case("late records within the grace period count", [("COUNT(*)", None, None)], LATE, window=("T", 10, 100)),
    agg_case("a hopping window closes before the next", [("COUNT(*)", None, None)], LATE, window=("H", 20, 10, 0)),
]
for c in cases:
    pass
files["aggregates"] = cases

S = ASRC
files["windows"] = [
    {"name": "WINDOWSTART and WINDOWEND in the select list",
     "statements": [S, "CREATE TABLE OUTPUT AS SELECT NAME, WINDOWSTART AS WS, WINDOWEND AS WE, COUNT(*) AS C FROM INPUT WINDOW TUMBLING (SIZE 10 MILLISECONDS) GROUP BY NAME;"],
     "inputs": [rec({"NAME": "a"}, ts=13), rec({"NAME": "a"}, ts=17)],
     "outputs": [{"topic": "OUTPUT", "key": "a", "value": {"WS": 10, "WE": 20, "C": 1}, "timestamp": 13, "window": {"start": 10, "end": 20, "type": "time"}},
                 {"topic": "OUTPUT", "key": "a", "value": {"WS": 10, "WE": 20, "C": 2}, "timestamp": 17, "window": {"start": 10, "end": 20, "type": "time"}}]},
    {"name": "session windows merge within the gap",
     "statements": [S, "CREATE TABLE OUTPUT AS SELECT NAME, COUNT(*) AS C FROM INPUT WINDOW SESSION (10 MILLISECONDS) GROUP BY NAME;"],
     "inputs": [rec({"NAME": "a"}, ts=0), rec({"NAME": "a"}, ts=5), rec({"NAME": "a"}, ts=30)],
     "outputs": [{"topic": "OUTPUT", "key": "a", "value": {"C": 1}, "timestamp": 0, "window": {"start": 0, "end": 0, "type": "session"}},
                 {"topic": "OUTPUT", "key": "a", "value": None, "timestamp": 5, "window": {"start": 0, "end": 0, "type": "session"}},
                 {"topic": "OUTPUT", "key": "a", "value": {"C": 2}, "timestamp": 5, "window": {"start": 0, "end": 5, "type": "session"}},
                 {"topic": "OUTPUT", "key": "a", "value": {"C": 1}, "timestamp": 30, "window": {"start": 30, "end": 30, "type": "session"}}]},
    {"name": "a record between two sessions merges them",
     "statements": [S, "CREATE TABLE OUTPUT AS SELECT NAME, SUM(AMOUNT) AS S FROM INPUT WINDOW SESSION (10 MILLISECONDS) GROUP BY NAME;"],
     "inputs": [rec({"NAME": "a", "AMOUNT": 1}, ts=0), rec({"NAME": "a", "AMOUNT": 2}, ts=18), rec({"NAME": "a", "AMOUNT": 4}, ts=9)],
     "outputs": [{"topic": "OUTPUT", "key": "a", "value": {"S": 1}, "timestamp": 0, "window": {"start": 0, "end": 0, "type": "session"}},
                 {"topic": "OUTPUT", "key": "a", "value": {"S": 2}, "timestamp": 18, "window": {"start": 18, "end": 18, "type": "session"}},
                 {"topic": "OUTPUT", "key": "a", "value": None, "timestamp": 9, "window": {"start": 0, "end": 0, "type": "session"}},
                 {"topic": "OUTPUT", "key": "a", "value": None, "timestamp": 9, "window": {"start": 18, "end": 18, "type": "session"}},
                 {"topic": "OUTPUT", "key": "a", "value": {"S": 7}, "timestamp": 18, "window": {"start": 0, "end": 18, "type": "session"}}]},
    {"name": "sessions of different keys stay apart",
     "statements": [S, "CREATE TABLE OUTPUT AS SELECT NAME, COUNT(*) AS C FROM INPUT WINDOW SESSION (10 MILLISECONDS) GROUP BY NAME;"],
     "inputs": [rec({"NAME": "a"}, ts=0), rec({"NAME": "b"}, ts=1)],
     "outputs": [{"topic": "OUTPUT", "key": "a", "value": {"C": 1}, "timestamp": 0, "window": {"start": 0, "end": 0, "type": "session"}},
                 {"topic": "OUTPUT", "key": "b", "value": {"C": 1}, "timestamp": 1, "window": {"start": 1, "end": 1, "type": "session"}}]},
    {"name": "EMIT FINAL: one row per window once it closes",
     "statements": [S, "CREATE TABLE OUTPUT AS SELECT NAME, COUNT(*) AS C FROM INPUT WINDOW TUMBLING (SIZE 10 MILLISECONDS, GRACE PERIOD 0 MILLISECONDS) GROUP BY NAME EMIT FINAL;"],
     "inputs": [rec({"NAME": "a"}, ts=1), rec({"NAME": "a"}, ts=2), rec({"NAME": "b"}, ts=3), rec({"NAME": "a"}, ts=12), rec({"NAME": "a"}, ts=25)],
     "outputs": [{"topic": "OUTPUT", "key": "a", "value": {"C": 2}, "timestamp": 2, "window": {"start": 0, "end": 10, "type": "time"}},
                 {"topic": "OUTPUT", "key": "b", "value": {"C": 1}, "timestamp": 3, "window": {"start": 0, "end": 10, "type": "time"}},
                 {"topic": "OUTPUT", "key": "a", "value": {"C": 1}, "timestamp": 12, "window": {"start": 10, "end": 20, "type": "time"}}]},
    {"name": "EMIT FINAL waits for the grace period",
     "statements": [S, "CREATE TABLE OUTPUT AS SELECT NAME, COUNT(*) AS C FROM INPUT WINDOW TUMBLING (SIZE 10 MILLISECONDS, GRACE PERIOD 5 MILLISECONDS) GROUP BY NAME EMIT FINAL;"],
     "inputs": [rec({"NAME": "a"}, ts=1), rec({"NAME": "a"}, ts=14), rec({"NAME": "a"}, ts=8)],
     "outputs": []},
    {"name": "EMIT FINAL after the grace period, with the late record counted",
     "statements": [S, "CREATE TABLE OUTPUT AS SELECT NAME, COUNT(*) AS C FROM INPUT WINDOW TUMBLING (SIZE 10 MILLISECONDS, GRACE PERIOD 5 MILLISECONDS) GROUP BY NAME EMIT FINAL;"],
     "inputs": [rec({"NAME": "a"}, ts=1), rec({"NAME": "a"}, ts=14), rec({"NAME": "a"}, ts=8), rec({"NAME": "a"}, ts=15)],
     "outputs": [{"topic": "OUTPUT", "key": "a", "value": {"C": 2}, "timestamp": 8, "window": {"start": 0, "end": 10, "type": "time"}}]},
    {"name": "EMIT FINAL of hopping windows",
     "statements": [S, "CREATE TABLE OUTPUT AS SELECT NAME, COUNT(*) AS C FROM INPUT WINDOW HOPPING (SIZE 10 MILLISECONDS, ADVANCE BY 5 MILLISECONDS, GRACE PERIOD 0 MILLISECONDS) GROUP BY NAME EMIT FINAL;"],
     "inputs": [rec({"NAME": "a"}, ts=7), rec({"NAME": "a"}, ts=30)],
     "outputs": [{"topic": "OUTPUT", "key": "a", "value": {"C": 1}, "timestamp": 7, "window": {"start": 0, "end": 10, "type": "time"}},
                 {"topic": "OUTPUT", "key": "a", "value": {"C": 1}, "timestamp": 7, "window": {"start": 5, "end": 15, "type": "time"}}]},
    {"name": "EMIT FINAL of sessions",
     "statements": [S, "CREATE TABLE OUTPUT AS SELECT NAME, COUNT(*) AS C FROM INPUT WINDOW SESSION (10 MILLISECONDS, GRACE PERIOD 0 MILLISECONDS) GROUP BY NAME EMIT FINAL;"],
     "inputs": [rec({"NAME": "a"}, ts=0), rec({"NAME": "a"}, ts=5), rec({"NAME": "a"}, ts=40)],
     "outputs": [{"topic": "OUTPUT", "key": "a", "value": {"C": 2}, "timestamp": 5, "window": {"start": 0, "end": 5, "type": "session"}}]},
    {"name": "event time from the TIMESTAMP column",
     "statements": ["CREATE STREAM INPUT (ID BIGINT KEY, NAME STRING, T BIGINT) WITH (kafka_topic='input', value_format='JSON', timestamp='T');",
                    "CREATE TABLE OUTPUT AS SELECT NAME, COUNT(*) AS C FROM INPUT WINDOW TUMBLING (SIZE 10 MILLISECONDS) GROUP BY NAME;"],
     "inputs": [rec({"NAME": "a", "T": 25}, ts=1)],
     "outputs": [{"topic": "OUTPUT", "key": "a", "value": {"C": 1}, "timestamp": 25, "window": {"start": 20, "end": 30, "type": "time"}}]},
    {"name": "group by an expression",
     "statements": [S, "CREATE TABLE OUTPUT AS SELECT UCASE(NAME) AS U, COUNT(*) AS C FROM INPUT GROUP BY UCASE(NAME);"],
     "inputs": [rec({"NAME": "a"}, ts=1), rec({"NAME": "A"}, ts=2)],
     "outputs": [{"topic": "OUTPUT", "key": "A", "value": {"C": 1}, "timestamp": 1}, {"topic": "OUTPUT", "key": "A", "value": {"C": 2}, "timestamp": 2}]},
    {"name": "expressions over aggregates",
     "statements": [S, "CREATE TABLE OUTPUT AS SELECT NAME, SUM(AMOUNT) * 2 + COUNT(*) AS X FROM INPUT GROUP BY NAME;"],
     "inputs": [rec({"NAME": "a", "AMOUNT": 3}, ts=1), rec({"NAME": "a", "AMOUNT": 4}, ts=2)],
     "outputs": [{"topic": "OUTPUT", "key": "a", "value": {"X": 7}, "timestamp": 1}, {"topic": "OUTPUT", "key": "a", "value": {"X": 16}, "timestamp": 2}]},
    {"name": "group by the key",
     "statements": [S, "CREATE TABLE OUTPUT AS SELECT ID, COUNT(*) AS C FROM INPUT GROUP BY ID;"],
     "inputs": [rec({"NAME": "a"}, k=4, ts=1), rec({"NAME": "b"}, k=4, ts=2)],
     "outputs": [{"topic": "OUTPUT", "key": 4, "value": {"C": 1}, "timestamp": 1}, {"topic": "OUTPUT", "key": 4, "value": {"C": 2}, "timestamp": 2}]},
    {"name": "LATEST_BY_OFFSET keeps the last value, nulls ignored",
     "statements": [S, "CREATE TABLE OUTPUT AS SELECT NAME, LATEST_BY_OFFSET(AMOUNT) AS L FROM INPUT GROUP BY NAME;"],
     "inputs": [rec({"NAME": "a", "AMOUNT": 1}, ts=1), rec({"NAME": "a", "AMOUNT": None}, ts=2)],
     "outputs": [{"topic": "OUTPUT", "key": "a", "value": {"L": 1}, "timestamp": 1}, {"topic": "OUTPUT", "key": "a", "value": {"L": 1}, "timestamp": 2}]},
    {"name": "LATEST_BY_OFFSET with ignoreNulls false",
     "statements": [S, "CREATE TABLE OUTPUT AS SELECT NAME, LATEST_BY_OFFSET(AMOUNT, false) AS L FROM INPUT GROUP BY NAME;"],
     "inputs": [rec({"NAME": "a", "AMOUNT": 1}, ts=1), rec({"NAME": "a", "AMOUNT": None}, ts=2)],
     "outputs": [{"topic": "OUTPUT", "key": "a", "value": {"L": 1}, "timestamp": 1}, {"topic": "OUTPUT", "key": "a", "value": {"L": None}, "timestamp": 2}]},
    err("TOPK needs a constant k", [S, "CREATE TABLE OUTPUT AS SELECT NAME, TOPK(AMOUNT, AMOUNT) FROM INPUT GROUP BY NAME;"], "TOPK needs a constant k"),
    err("TOPK k out of range", [S, "CREATE TABLE OUTPUT AS SELECT NAME, TOPK(AMOUNT, 0) FROM INPUT GROUP BY NAME;"], "k must be between 1 and 1000"),
    err("retention shorter than the window", [S, "CREATE TABLE OUTPUT AS SELECT NAME, COUNT(*) FROM INPUT WINDOW TUMBLING (SIZE 10 SECONDS, RETENTION 5 SECONDS) GROUP BY NAME;"], "RETENTION (5000 ms) must be at least its SIZE plus its GRACE PERIOD"),
    err("EMIT FINAL without a window", [S, "CREATE TABLE OUTPUT AS SELECT NAME, COUNT(*) FROM INPUT GROUP BY NAME EMIT FINAL;"], "EMIT FINAL is only for windowed aggregations"),
    err("HISTOGRAM of a number", [S, "CREATE TABLE OUTPUT AS SELECT NAME, HISTOGRAM(AMOUNT) FROM INPUT GROUP BY NAME;"], "Function 'histogram' does not accept parameters (INTEGER)"),
    err("SUM of a string", [S, "CREATE TABLE OUTPUT AS SELECT NAME, SUM(NAME) FROM INPUT GROUP BY NAME;"], "Function 'sum' does not accept parameters (STRING)"),
    err("WINDOWSTART without a window", [S, "CREATE TABLE OUTPUT AS SELECT NAME, WINDOWSTART, COUNT(*) FROM INPUT GROUP BY NAME;"], "WINDOWSTART"),
]

# ---- tables -----------------------------------------------------------------------------------
# A table's record upserts its key; a null value deletes it. A stateless query over a table
# passes every change on (a deleted or filtered-out row becomes a tombstone); an aggregation
# takes the key's previous row out of its group (undo) before the new one goes in, and emits
# the group once when both land in it, else the old group then the new one.
TSRC = ("CREATE TABLE INPUT (ID BIGINT PRIMARY KEY, NAME STRING, AMOUNT INT, PRICE DOUBLE) "
        "WITH (kafka_topic='input', value_format='JSON');")

def trec(k, v, ts):
    return {"topic": "input", "key": k, "value": v, "timestamp": ts}

def tcase(name, query, events, outputs, src=TSRC, parts=None):
    c = {"name": name, "statements": [src, query],
         "inputs": [trec(k, v, ts) for k, v, ts in events], "outputs": outputs}
    if parts:
        c["topics"] = [{"name": "input", "partitions": parts}]
        c["outputs"] = by_str_part(outputs, parts)
    return c

class Agg:
    """ksqlDB's table aggregate state for fn, with add and undo as its UDAFs have them."""
    def __init__(self, fn):
        self.fn, self.n, self.s, self.items, self.hist = fn, 0, 0, [], {}
    def step(self, v, sign):
        fn = self.fn
        if fn == "COUNT(*)": self.n += sign; return
        if v is None: return
        if fn in ("COUNT", "SUM", "AVG"):
            self.n += sign; self.s += sign * v
        elif fn == "COLLECT_LIST":
            if sign > 0: self.items.append(v)
            elif v in self.items: del self.items[len(self.items) - 1 - self.items[::-1].index(v)]
        elif fn == "COLLECT_SET":
            if sign > 0 and v not in self.items: self.items.append(v)
            elif sign < 0 and v in self.items: self.items.remove(v)
        elif fn == "HISTOGRAM":
            self.hist[v] = self.hist.get(v, 0) + sign
            if self.hist[v] <= 0: del self.hist[v]
    def result(self):
        fn = self.fn
        if fn in ("COUNT(*)", "COUNT"): return self.n
        if fn == "SUM": return self.s
        if fn == "AVG": return self.s / self.n if self.n else 0.0
        if fn == "HISTOGRAM": return dict(self.hist)
        return list(self.items)

def table_model(events, fns, where=None, having=None):
    table, groups, outs = {}, {}, []
    def ok(row):
        return row is not None and row.get("NAME") is not None and (where is None or where(row))
    def touch(row, sign, ts):
        g = groups.setdefault(row["NAME"], {"aggs": [Agg(fn) for fn, _, _ in fns], "ts": -1})
        g["ts"] = max(g["ts"], ts)
        for a, (fn, col, _) in zip(g["aggs"], fns):
            a.step(row.get(col) if col else 1, sign)
    def emit(name):
        g = groups[name]
        v = {f"A{i}": a.result() for i, a in enumerate(g["aggs"])}
        outs.append({"topic": "OUTPUT", "key": name, "value": None if having and not having(v) else v,
                     "timestamp": g["ts"]})
    for k, v, ts in events:
        old = table.get(k)
        if v is None:
            table.pop(k, None)
        else:
            table[k] = v
        o = old if ok(old) else None
        n = v if ok(v) else None
        if o: touch(o, -1, ts)
        if o and not (n and n["NAME"] == o["NAME"]): emit(o["NAME"])
        if n: touch(n, 1, ts); emit(n["NAME"])
    return outs

def tagg(name, fns, events, where=None, where_fn=None, having_sql=None, having=None, parts=None):
    sel = ", ".join(f"{call(fn, col, arg)} AS A{i}" for i, (fn, col, arg) in enumerate(fns))
    q = (f"CREATE TABLE OUTPUT AS SELECT NAME, {sel} FROM INPUT" + (f" WHERE {where}" if where else "") +
         " GROUP BY NAME" + (f" HAVING {having_sql}" if having_sql else "") + ";")
    return tcase(name, q, events, table_model(events, fns, where_fn, having), parts=parts)

def row(name, amount=None, price=None):
    return {"NAME": name, "AMOUNT": amount, "PRICE": price}

T1 = [(1, row("a", 1), 10), (2, row("b", 2), 20), (1, row("b", 3), 30), (2, None, 40), (3, row("a", 4), 50)]
T2 = [(1, row("x", 5), 1), (1, row("x", 7), 2), (1, row("x", 7), 3), (1, None, 4), (1, row("x", 2), 5)]
T3 = [(1, row("a", 1), 1), (2, row("a", 1), 2), (3, row("a", 2), 3), (2, row("b", 1), 4), (1, None, 5),
      (3, None, 6), (2, None, 7)]
T4 = [(5, None, 1), (1, row("a", None), 2), (2, row(None, 3), 3), (1, row("a", 6), 4), (2, row("a", 3), 5)]
T5 = [(i % 3, row("abc"[i % 2], i), i) for i in range(9)]
TFNS = [("COUNT(*)", None, None), ("COUNT", "AMOUNT", None), ("SUM", "AMOUNT", None), ("AVG", "AMOUNT", None),
        ("COLLECT_LIST", "AMOUNT", None), ("COLLECT_SET", "AMOUNT", None), ("HISTOGRAM", "NAME", None)]
cases = []
for d, dn in ((T1, "t1"), (T2, "t2"), (T3, "t3"), (T4, "t4"), (T5, "t5")):
    for fn, col, arg in TFNS:
        cases.append(tagg(f"table {call(fn, col, arg)} over {dn}", [(fn, col, arg)], d))
cases += [
    tagg("table: several aggregates, a row moving between groups", [("COUNT(*)", None, None), ("SUM", "AMOUNT", None)], T1),
    tagg("table: WHERE over the old and the new row", [("COUNT(*)", None, None)], T2, where="AMOUNT > 5",
         where_fn=lambda r: r["AMOUNT"] is not None and r["AMOUNT"] > 5),
    tagg("table: WHERE drops a row whose update fails it", [("SUM", "AMOUNT", None)], T3, where="AMOUNT < 2",
         where_fn=lambda r: r["AMOUNT"] is not None and r["AMOUNT"] < 2),
    tagg("table: HAVING removes a group counted back to zero", [("COUNT(*)", None, None)], T3,
         having_sql="COUNT(*) > 0", having=lambda v: v["A0"] > 0),
    tagg("table: HAVING on a SUM", [("SUM", "AMOUNT", None)], T1, having_sql="SUM(AMOUNT) >= 4", having=lambda v: v["A0"] >= 4),
    tcase("table: count by the primary key", "CREATE TABLE OUTPUT AS SELECT ID, COUNT(*) AS C FROM INPUT GROUP BY ID;",
          [(1, row("a"), 1), (1, row("b"), 2), (2, row("c"), 3), (1, None, 4)],
          [{"topic": "OUTPUT", "key": 1, "value": {"C": 1}, "timestamp": 1},
           {"topic": "OUTPUT", "key": 1, "value": {"C": 1}, "timestamp": 2},
           {"topic": "OUTPUT", "key": 2, "value": {"C": 1}, "timestamp": 3},
           {"topic": "OUTPUT", "key": 1, "value": {"C": 0}, "timestamp": 4}]),
    # ksqlDB's own "count table" case, in this file's shape
    tcase("table: ksqlDB's count table", "CREATE TABLE OUTPUT AS SELECT NAME, COUNT(1) AS C FROM INPUT GROUP BY NAME;",
          [(0, row("bob"), 1), (0, row("john"), 2), (100, row("john"), 3), (100, None, 4)],
          [{"topic": "OUTPUT", "key": "bob", "value": {"C": 1}, "timestamp": 1},
           {"topic": "OUTPUT", "key": "bob", "value": {"C": 0}, "timestamp": 2},
           {"topic": "OUTPUT", "key": "john", "value": {"C": 1}, "timestamp": 2},
           {"topic": "OUTPUT", "key": "john", "value": {"C": 2}, "timestamp": 3},
           {"topic": "OUTPUT", "key": "john", "value": {"C": 1}, "timestamp": 4}]),
]

def tproj(name, select, events, proj, where=None, where_fn=None):
    q = f"CREATE TABLE OUTPUT AS SELECT {select} FROM INPUT" + (f" WHERE {where}" if where else "") + ";"
    outs = []
    for k, v, ts in events:
        keep = v is not None and (where_fn is None or where_fn(v))
        outs.append({"topic": "OUTPUT", "key": k, "value": proj(v) if keep else None, "timestamp": ts})
    return tcase(name, q, events, outs)

TS = [(1, row("a", 1, 0.5), 1), (2, row("b", 2, 1.5), 2), (1, row("a", 3, 2.5), 3), (2, None, 4),
      (3, row("c", None, None), 5), (1, None, 6), (1, row("d", 9, 9.5), 7)]
cases += [
    tproj("table: SELECT * passes upserts and tombstones", "*", TS, lambda v: v),
    tproj("table: a projection", "ID, UCASE(NAME) AS N, AMOUNT * 2 AS D", TS,
          lambda v: {"N": v["NAME"].upper() if v["NAME"] else None, "D": v["AMOUNT"] * 2 if v["AMOUNT"] is not None else None}),
    tproj("table: rows failing the filter become tombstones", "ID, NAME", TS, lambda v: {"NAME": v["NAME"]},
          where="AMOUNT > 1", where_fn=lambda v: v["AMOUNT"] is not None and v["AMOUNT"] > 1),
    tproj("table: a filter on the key", "ID, PRICE", TS, lambda v: {"PRICE": v["PRICE"]},
          where="ID = 1", where_fn=None),
    tproj("table: IS NULL filter", "ID, NAME", TS, lambda v: {"NAME": v["NAME"]},
          where="AMOUNT IS NULL", where_fn=lambda v: v["AMOUNT"] is None),
]
# the key filter's model: the filter is on the key, which the events carry
cases[-2]["outputs"] = [{"topic": "OUTPUT", "key": k, "value": {"PRICE": v["PRICE"]} if v is not None and k == 1 else None,
                         "timestamp": ts} for k, v, ts in TS]
cases += [
    {"name": "table: a table's record with a null key is dropped", "statements": [TSRC, "CREATE TABLE OUTPUT AS SELECT * FROM INPUT;"],
     "inputs": [trec(None, row("a", 1), 1), trec(1, row("b", 2), 2)],
     "outputs": [{"topic": "OUTPUT", "key": 1, "value": row("b", 2), "timestamp": 2}]},
    {"name": "table: a record that cannot be decoded leaves the row as it was",
     "statements": [TSRC, "CREATE TABLE OUTPUT AS SELECT NAME, COUNT(*) AS C FROM INPUT GROUP BY NAME;"],
     "inputs": [trec(1, row("a", 1), 1), trec(1, "not json", 2), trec(1, row("b", 1), 3)],
     "outputs": [{"topic": "OUTPUT", "key": "a", "value": {"C": 1}, "timestamp": 1},
                 {"topic": "OUTPUT", "key": "a", "value": {"C": 0}, "timestamp": 3},
                 {"topic": "OUTPUT", "key": "b", "value": {"C": 1}, "timestamp": 3}]},
    err("table: CSAS over a table", [TSRC, "CREATE STREAM OUTPUT AS SELECT * FROM INPUT;"],
        "Invalid result type. Your SELECT query produces a TABLE. Please use CREATE TABLE AS SELECT statement instead."),
    err("table: a windowed table aggregation", [TSRC, "CREATE TABLE OUTPUT AS SELECT NAME, COUNT(*) FROM INPUT WINDOW TUMBLING (SIZE 1 SECOND) GROUP BY NAME;"],
        "Windowing not supported for table aggregations."),
    err("table: MIN and MAX cannot undo", [TSRC, "CREATE TABLE OUTPUT AS SELECT NAME, MIN(AMOUNT), MAX(AMOUNT), MIN(PRICE) FROM INPUT GROUP BY NAME;"],
        "The aggregation functions MIN and MAX cannot be applied to a table source, only to a stream source."),
    err("table: ksqlDB's three non-table aggregates", [TSRC, "CREATE TABLE OUTPUT AS SELECT ID, LATEST_BY_OFFSET(AMOUNT), MIN(PRICE), MAX(PRICE) FROM INPUT GROUP BY ID;"],
        "The aggregation functions LATEST_BY_OFFSET, MIN and MAX cannot be applied to a table source, only to a stream source."),
    err("table: TOPK cannot undo", [TSRC, "CREATE TABLE OUTPUT AS SELECT NAME, COUNT(*), TOPK(AMOUNT, 2) FROM INPUT GROUP BY NAME;"],
        "The aggregation function TOPK cannot be applied to a table source, only to a stream source."),
    err("table: COUNT_DISTINCT cannot undo", [TSRC, "CREATE TABLE OUTPUT AS SELECT NAME, COUNT_DISTINCT(AMOUNT) FROM INPUT GROUP BY NAME;"],
        "The aggregation function COUNT_DISTINCT cannot be applied to a table source"),
    err("table: PARTITION BY", [TSRC, "CREATE TABLE OUTPUT AS SELECT * FROM INPUT PARTITION BY NAME;"],
        "PARTITION BY is not supported on tables: INPUT is a table"),
    err("table: a table function", ["CREATE TABLE INPUT (ID BIGINT PRIMARY KEY, L ARRAY<INT>) WITH (kafka_topic='input', value_format='JSON');",
                                    "CREATE TABLE OUTPUT AS SELECT ID, EXPLODE(L) AS E FROM INPUT;"],
        "Table source is not supported with table functions"),
    err("table: INSERT INTO from a table", [TSRC, "CREATE STREAM S (ID BIGINT KEY, NAME STRING, AMOUNT INT, PRICE DOUBLE) WITH (kafka_topic='s', value_format='JSON', partitions=1);",
                                            "INSERT INTO S SELECT * FROM INPUT;"],
        "INSERT INTO ... SELECT needs a stream to read: INPUT is a table"),
    err("table: the key must be projected", [TSRC, "CREATE TABLE OUTPUT AS SELECT NAME FROM INPUT;"], "key"),
]
files["tables"] = cases

# ---- GROUP BY through a repartition topic ----------------------------------------------------
# A source with several partitions grouped by anything but its key: an internal query writes
# each record to <service>-<query>-0-repartition by its group, and the aggregation reads that.
# The same models, with one stream time per partition; a table's row that changes group is
# taken out of its old group's partition and added to the new one's.
def rand_rows(seed, n, names="abcdefgh", nulls=True):
    rng = random.Random(seed)
    rows, ts = [], 10
    for _ in range(n):
        ts += rng.randint(0, 6)
        name = None if nulls and rng.random() < 0.05 else rng.choice(names)
        rows.append((name, rng.choice([None, rng.randint(-5, 20)]) if rng.random() < 0.2 else rng.randint(-5, 20),
                     round(rng.uniform(0, 10), 2), ts - rng.randint(0, 8)))
    return rows

def rand_table(seed, n, ids=8, names="abcdefg"):
    rng = random.Random(seed)
    return [(rng.randint(1, ids), None if rng.random() < 0.15 else row(rng.choice(names), rng.randint(0, 9)), i)
            for i in range(1, n + 1)]

JKEYS = [("a", 1), ("a", 2), ("b", 1), ("a", 1), ("b", 1), ("d", 7)]
RFNS = [("COUNT(*)", None, None), ("SUM", "AMOUNT", None), ("AVG", "PRICE", None), ("MAX", "AMOUNT", None),
        ("COLLECT_LIST", "AMOUNT", None), ("EARLIEST_BY_OFFSET", "AMOUNT", None), ("TOPK", "AMOUNT", 2)]
cases = []
for seed in range(1, 4):
    rows = rand_rows(seed, 40)
    for parts in (2, 3):
        cases.append(agg_case(f"repartitioned over {parts} partitions, random rows {seed}", RFNS, rows, parts=parts))
        cases.append(agg_case(f"repartitioned tumbling windows over {parts} partitions, random rows {seed}",
                              [("COUNT(*)", None, None), ("SUM", "AMOUNT", None)], rows, window=("T", 20, 5), parts=parts))
        cases.append(agg_case(f"repartitioned hopping windows over {parts} partitions, random rows {seed}",
                              [("COUNT(*)", None, None), ("MIN", "PRICE", None)], rows, window=("H", 20, 10, 0), parts=parts))
cases += [
    agg_case("repartitioned: WHERE before the aggregation", [("COUNT(*)", None, None)], rand_rows(7, 30),
             where="AMOUNT > 5", where_fn=lambda a: a is not None and a > 5, parts=2),
    agg_case("repartitioned: HAVING", [("SUM", "AMOUNT", None)], rand_rows(8, 30),
             having=lambda v: v["A0"] is not None and v["A0"] > 20, having_sql="SUM(AMOUNT) > 20", parts=2),
    agg_case("repartitioned: null groups are dropped by the repartition", [("COUNT(*)", None, None)],
             [("a", 1, 1.0, 1), (None, 2, 2.0, 2), ("d", 3, 3.0, 3), (None, 4, 4.0, 4), ("a", 5, 5.0, 5)], parts=2),
    agg_case("repartitioned: each partition has its own stream time", [("COUNT(*)", None, None)],
             [("a", 1, 1.0, 100), ("d", 2, 2.0, 5), ("a", 3, 3.0, 6), ("d", 4, 4.0, 7)], window=("T", 10, 0), parts=2),
    {"name": "repartitioned: GROUP BY an expression",
     "statements": [ASRC, "CREATE TABLE OUTPUT AS SELECT UCASE(NAME) AS U, COUNT(*) AS C FROM INPUT GROUP BY UCASE(NAME);"],
     "topics": [{"name": "input", "partitions": 2}],
     "inputs": [rec({"NAME": n}, k=i, ts=i) for i, n in enumerate(["a", "d", "A", "D", "b", "a"])],
     "outputs": by_str_part([out({"C": c}, k=n, ts=i) for i, (n, c) in
                             enumerate([("A", 1), ("D", 1), ("A", 2), ("D", 2), ("B", 1), ("A", 3)])], 2)},
    {"name": "repartitioned: two group columns in a JSON key",
     "statements": ["CREATE STREAM INPUT (ID BIGINT KEY, NAME STRING, AMOUNT INT) WITH (kafka_topic='input', key_format='JSON', value_format='JSON');",
                    "CREATE TABLE OUTPUT AS SELECT NAME, AMOUNT, COUNT(*) AS C FROM INPUT GROUP BY NAME, AMOUNT;"],
     "topics": [{"name": "input", "partitions": 2}],
     "inputs": [rec({"NAME": n, "AMOUNT": a}, k=i, ts=i) for i, (n, a) in enumerate(JKEYS)],
     "outputs": sorted([out({"C": c}, k={"NAME": n, "AMOUNT": a}, ts=i) for i, (n, a, c) in
                        enumerate([("a", 1, 1), ("a", 2, 1), ("b", 1, 1), ("a", 1, 2), ("b", 1, 2), ("d", 7, 1)])],
                       key=lambda o: (join_cases.murmur2(json.dumps(o["key"], separators=(",", ":")).encode()) & 0x7FFFFFFF) % 2)},
    {"name": "repartitioned: the source key stays readable after the repartition",
     "statements": [ASRC, "CREATE TABLE OUTPUT AS SELECT NAME, COLLECT_LIST(ID) AS IDS FROM INPUT GROUP BY NAME;"],
     "topics": [{"name": "input", "partitions": 2}],
     "inputs": [rec({"NAME": n}, k=k, ts=i) for i, (n, k) in enumerate([("a", 10), ("d", 11), ("a", 12), ("d", 13)])],
     "outputs": by_str_part([out({"IDS": v}, k=n, ts=i) for i, (n, v) in
                             enumerate([("a", [10]), ("d", [11]), ("a", [10, 12]), ("d", [11, 13])])], 2)},
]
for d, dn in ((T1, "t1"), (T3, "t3"), (T5, "t5")):
    for parts in (2, 3):
        cases.append(tagg(f"table repartitioned over {parts} partitions, {dn}",
                          [("COUNT(*)", None, None), ("SUM", "AMOUNT", None), ("COLLECT_LIST", "AMOUNT", None)], d, parts=parts))
for seed in range(1, 5):
    for parts in (2, 3):
        cases.append(tagg(f"table repartitioned over {parts} partitions, random updates and deletes {seed}",
                          [("COUNT(*)", None, None), ("SUM", "AMOUNT", None), ("AVG", "AMOUNT", None)],
                          rand_table(seed, 40), parts=parts))
cases += [
    tagg("table repartitioned: WHERE over the old and the new row", [("COUNT(*)", None, None)], rand_table(9, 30),
         where="AMOUNT > 4", where_fn=lambda r: r["AMOUNT"] is not None and r["AMOUNT"] > 4, parts=2),
    tagg("table repartitioned: HAVING removes a group counted back to zero", [("COUNT(*)", None, None)], T3,
         having=lambda v: v["A0"] > 0, having_sql="COUNT(*) > 0", parts=2),
]
files["repartition"] = cases

# ---- windowed sources -----------------------------------------------------------------------
# A stream over the topic of a windowed aggregation (WINDOW_TYPE, WINDOW_SIZE): its keys carry
# the window, WINDOWSTART and WINDOWEND read it, and a CSAS over it writes windowed keys again
# (unless PARTITION BY gives it a new key).
WT = "CREATE TABLE T AS SELECT NAME, COUNT(*) AS C FROM INPUT WINDOW TUMBLING (SIZE 10 MILLISECONDS) GROUP BY NAME;"
WSESS = "CREATE TABLE T AS SELECT NAME, COUNT(*) AS C FROM INPUT WINDOW SESSION (10 MILLISECONDS) GROUP BY NAME;"
def wsrc(kind, size=None):
    w = f"WINDOW_TYPE='{kind}'" + (f", WINDOW_SIZE='{size}'" if size else "")
    return f"CREATE STREAM WS (NAME STRING KEY, C BIGINT) WITH (kafka_topic='T', value_format='JSON', {w});"
def wout(key, value, ts, start=None, end=None, kind="time"):
    o = {"topic": "OUTPUT", "key": key, "value": value, "timestamp": ts}
    if start is not None:
        o["window"] = {"start": start, "end": end, "type": kind}
    return o
TIN = [rec({"NAME": "a"}, ts=1), rec({"NAME": "a"}, ts=2), rec({"NAME": "b"}, ts=3), rec({"NAME": "a"}, ts=12)]
files["windowed_sources"] = [
    {"name": "a stream over a tumbling table's topic: WINDOWSTART, WINDOWEND, windowed keys out",
     "statements": [ASRC, WT, wsrc("TUMBLING", "10 MILLISECONDS"),
                    "CREATE STREAM OUTPUT AS SELECT NAME, WINDOWSTART AS WS, WINDOWEND AS WE, C FROM WS;"],
     "inputs": TIN,
     "outputs": [wout("a", {"WS": 0, "WE": 10, "C": 1}, 1, 0, 10), wout("a", {"WS": 0, "WE": 10, "C": 2}, 2, 0, 10),
                 wout("b", {"WS": 0, "WE": 10, "C": 1}, 3, 0, 10), wout("a", {"WS": 10, "WE": 20, "C": 1}, 12, 10, 20)]},
    {"name": "a filter over a windowed stream",
     "statements": [ASRC, WT, wsrc("Tumbling", "10 milliseconds"),
                    "CREATE STREAM OUTPUT AS SELECT NAME, C FROM WS WHERE C > 1 OR WINDOWSTART >= 10;"],
     "inputs": TIN,
     "outputs": [wout("a", {"C": 2}, 2, 0, 10), wout("a", {"C": 1}, 12, 10, 20)]},
    {"name": "a window size in seconds names the window end",
     "statements": [ASRC, "CREATE TABLE T AS SELECT NAME, COUNT(*) AS C FROM INPUT WINDOW TUMBLING (SIZE 2 SECONDS) GROUP BY NAME;",
                    wsrc("TUMBLING", "2 SECONDS"), "CREATE STREAM OUTPUT AS SELECT NAME, WINDOWEND AS WE FROM WS;"],
     "inputs": [rec({"NAME": "a"}, ts=2500)],
     "outputs": [wout("a", {"WE": 4000}, 2500, 2000, 4000)]},
    {"name": "a stream over a session table's topic (tombstones of merged sessions are skipped)",
     "statements": [ASRC, WSESS, wsrc("SESSION"),
                    "CREATE STREAM OUTPUT AS SELECT NAME, WINDOWSTART AS WS, WINDOWEND AS WE, C FROM WS;"],
     "inputs": [rec({"NAME": "a"}, ts=0), rec({"NAME": "a"}, ts=5), rec({"NAME": "a"}, ts=30)],
     "outputs": [wout("a", {"WS": 0, "WE": 0, "C": 1}, 0, 0, 0, "session"),
                 wout("a", {"WS": 0, "WE": 5, "C": 2}, 5, 0, 5, "session"),
                 wout("a", {"WS": 30, "WE": 30, "C": 1}, 30, 30, 30, "session")]},
    {"name": "PARTITION BY over a windowed stream gives plain keys",
     "statements": [ASRC, WT, wsrc("TUMBLING", "10 MILLISECONDS"),
                    "CREATE STREAM OUTPUT AS SELECT C, NAME, WINDOWSTART AS WS FROM WS PARTITION BY C;"],
     "inputs": TIN,
     "outputs": [wout(1, {"NAME": "a", "WS": 0}, 1), wout(2, {"NAME": "a", "WS": 0}, 2),
                 wout(1, {"NAME": "b", "WS": 0}, 3), wout(1, {"NAME": "a", "WS": 10}, 12)]},
    err("persistent queries over windowed tables", [
        "CREATE TABLE INPUT (K STRING PRIMARY KEY, X INT) WITH (kafka_topic='test', value_format='JSON', WINDOW_TYPE='Session', partitions=1);",
        "CREATE TABLE OUTPUT AS SELECT * FROM INPUT;"], "KSQL does not support persistent queries on windowed tables."),
    err("a tumbling source needs WINDOW_SIZE", [
        "CREATE STREAM S (K STRING KEY, X INT) WITH (kafka_topic='t1', value_format='JSON', WINDOW_TYPE='TUMBLING', partitions=1);"],
        "Tumbling and Hopping window types should set WINDOW_SIZE in the WITH clause."),
    err("a session source takes no WINDOW_SIZE", [
        "CREATE STREAM S (K STRING KEY, X INT) WITH (kafka_topic='t1', value_format='JSON', WINDOW_TYPE='SESSION', WINDOW_SIZE='1 SECOND', partitions=1);"],
        "WINDOW_SIZE should not be set for SESSION windows."),
    err("an unknown WINDOW_TYPE", [
        "CREATE STREAM S (K STRING KEY, X INT) WITH (kafka_topic='t1', value_format='JSON', WINDOW_TYPE='SLIDING', WINDOW_SIZE='1 SECOND', partitions=1);"],
        "WINDOW_TYPE must be TUMBLING, HOPPING or SESSION, not 'SLIDING'"),
    err("a WINDOW_SIZE without a unit", [
        "CREATE STREAM S (K STRING KEY, X INT) WITH (kafka_topic='t1', value_format='JSON', WINDOW_TYPE='HOPPING', WINDOW_SIZE='10', partitions=1);"],
        "invalid WINDOW_SIZE '10': expected a number and a unit"),
    err("WINDOW_SIZE without WINDOW_TYPE", [
        "CREATE STREAM S (K STRING KEY, X INT) WITH (kafka_topic='t1', value_format='JSON', WINDOW_SIZE='1 SECOND', partitions=1);"],
        "WINDOW_SIZE needs a WINDOW_TYPE"),
    err("an aggregation over a windowed stream", [ASRC, WT, wsrc("TUMBLING", "10 MILLISECONDS"),
        "CREATE TABLE OUTPUT AS SELECT NAME, SUM(C) FROM WS GROUP BY NAME;"],
        "aggregations over windowed streams are not supported"),
]

files.update(join_cases.files())

for name, cases in files.items():
    with open(os.path.join(HERE, "cases", name + ".json"), "w") as f:
        f.write("// " + name + ": weir's own cases, written by gen_cases.py\n")
        json.dump({"tests": cases}, f, indent=1)
        f.write("\n")
print(sum(len(c) for c in files.values()), "cases")
