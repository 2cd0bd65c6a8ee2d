#!/usr/bin/env python3
"""Writes tests/conformance/cases/err_*.json: weir's own cases for ksqlDB's error messages and the
grammar features of issue 28 (ksqlDB's wording of format refusals, the NONE format's rules, parse
errors, key-missing and non-aggregate messages, function parameters, non-reserved words).

The cases are data written for weir; re-run: python3 tests/conformance/err_cases.py
"""
import json, os

HERE = os.path.dirname(os.path.abspath(__file__))
TYPES = ["BOOLEAN", "INTEGER", "BIGINT", "DOUBLE", "STRING", "BYTES", "DECIMAL(4, 2)", "TIMESTAMP",
         "DATE", "TIME", "ARRAY<INTEGER>", "MAP<STRING, INTEGER>", "STRUCT<`F` INTEGER>"]
KAFKA_OK = {"INTEGER", "BIGINT", "DOUBLE", "STRING", "BYTES"}

def base(t):
    return t.split("<")[0].split("(")[0]

def err(name, stmts, message):
    return {"name": name, "statements": stmts,
            "expectedException": {"type": "KsqlStatementException", "message": message}}

def ok(name, stmts, inputs, outputs):
    return {"name": name, "statements": stmts, "inputs": inputs, "outputs": outputs}

files = {}

# ---- format refusals -----------------------------------------------------------------------
fmt = []
for t in TYPES:
    for role, kw in (("key", "KEY"), ("value", "")):
        cols = f"K {t} KEY, V INT" if role == "key" else f"V {t}"
        stmt = f"CREATE STREAM S ({cols}) WITH (kafka_topic='t', key_format='KAFKA', value_format='KAFKA', partitions=1);"
        if role == "key" or True:
            pass
        if role == "value":
            stmt = f"CREATE STREAM S ({cols}) WITH (kafka_topic='t', value_format='KAFKA', partitions=1);"
        if role == "key" and base(t) == "MAP":
            continue  # a map key has its own message (below)
        if base(t) in KAFKA_OK:
            if role == "key":
                continue  # the value V INT then fails: a KAFKA value of two columns is tested below
            fmt.append(ok(f"KAFKA value of {t} is accepted", [stmt,
                "CREATE STREAM O AS SELECT * FROM S;"], [], []))
            continue
        who = "Key" if role == "key" else "Value"
        col = f"`K` {t} KEY" if role == "key" else f"`V` {t}"
        if role == "key":
            stmt = f"CREATE STREAM S ({cols}) WITH (kafka_topic='t', key_format='KAFKA', value_format='JSON', partitions=1);"
        fmt.append(err(f"KAFKA {role} of {t}", [stmt],
            f"{who} format does not support schema.\nformat: KAFKA\nschema: Persistence{{columns=[{col}], features=[]}}\n"
            f"reason: The 'KAFKA' format does not support type '{base(t)}'"))
for t in ("ARRAY<INTEGER>", "MAP<STRING, INTEGER>", "STRUCT<`F` INTEGER>"):
    fmt.append(err(f"DELIMITED value of {t}",
        [f"CREATE STREAM S (A INT, V {t}) WITH (kafka_topic='t', value_format='DELIMITED', partitions=1);"],
        f"reason: The 'DELIMITED' format does not support type '{base(t)}'"))
    if base(t) == "MAP":
        continue
    fmt.append(err(f"DELIMITED key of {t}",
        [f"CREATE STREAM S (K {t} KEY, V INT) WITH (kafka_topic='t', key_format='DELIMITED', value_format='JSON', partitions=1);"],
        f"Key format does not support schema.\nformat: DELIMITED\nschema: Persistence{{columns=[`K` {t} KEY], features=[]}}"))
for t in ("BOOLEAN", "INTEGER", "STRING", "DECIMAL(4, 2)", "TIMESTAMP", "BYTES"):
    fmt.append(ok(f"DELIMITED value of {t} is accepted",
        [f"CREATE STREAM S (A INT, V {t}) WITH (kafka_topic='t', value_format='DELIMITED', partitions=1);",
         "CREATE STREAM O AS SELECT * FROM S;"], [], []))
fmt += [
    err("KAFKA key of two columns",
        ["CREATE STREAM S (A INT KEY, B STRING KEY, V INT) WITH (kafka_topic='t', key_format='KAFKA', value_format='JSON', partitions=1);"],
        "Key format does not support schema.\nformat: KAFKA\nschema: Persistence{columns=[`A` INTEGER KEY, `B` STRING KEY], features=[]}\n"
        "reason: The 'KAFKA' format only supports a single field. Got: [`A` INTEGER KEY, `B` STRING KEY]"),
    err("KAFKA value of two columns",
        ["CREATE STREAM S (A INT, B BIGINT) WITH (kafka_topic='t', value_format='KAFKA', partitions=1);"],
        "Value format does not support schema.\nformat: KAFKA\nschema: Persistence{columns=[`A` INTEGER, `B` BIGINT], features=[]}\n"
        "reason: The 'KAFKA' format only supports a single field. Got: [`A` INTEGER, `B` BIGINT]"),
    err("PARTITION BY two columns into a KAFKA key",
        ["CREATE STREAM S (NAME STRING, ID INT, AGE INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);",
         "CREATE STREAM O AS SELECT ID, AGE, NAME FROM S PARTITION BY ID, AGE;"],
        "Key format does not support schema."),
    err("GROUP BY two columns into a KAFKA key",
        ["CREATE STREAM S (NAME STRING, ID INT, AGE INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);",
         "CREATE TABLE O AS SELECT ID, AGE, COUNT(*) AS C FROM S GROUP BY ID, AGE;"],
        "reason: The 'KAFKA' format only supports a single field. Got: [`ID` INTEGER KEY, `AGE` INTEGER KEY]"),
    err("a CSAS into a KAFKA value of a struct",
        ["CREATE STREAM S (ID INT KEY, V STRUCT<A INT>) WITH (kafka_topic='t', value_format='JSON', partitions=1);",
         "CREATE STREAM O WITH (value_format='KAFKA') AS SELECT ID, V FROM S;"],
        "reason: The 'KAFKA' format does not support type 'STRUCT'"),
    err("the line and column stay in front", [
        "CREATE STREAM S (V BOOLEAN) WITH (kafka_topic='t', value_format='KAFKA', partitions=1);"],
        "line 1:15: Value format does not support schema."),
]
MK = ("Map keys, including types that contain maps, are not supported as they may lead to unexpected "
      "behavior due to inconsistent serialization. Key column name: `{}`. Column type: {}")
MS = "CREATE STREAM M (K STRING KEY, MV MAP<STRING, INTEGER>, AM ARRAY<MAP<STRING, INTEGER>>) WITH (kafka_topic='m', value_format='JSON', partitions=1);"
fmt += [
    err("GROUP BY a map", [MS, "CREATE TABLE O AS SELECT MV, COUNT(*) AS C FROM M GROUP BY MV;"], MK.format("MV", "MAP<STRING, INTEGER>")),
    err("PARTITION BY a map", [MS, "CREATE STREAM O AS SELECT * FROM M PARTITION BY MV;"], MK.format("MV", "MAP<STRING, INTEGER>")),
    err("PARTITION BY an array of maps", [MS, "CREATE STREAM O WITH (key_format='JSON') AS SELECT * FROM M PARTITION BY AM;"],
        MK.format("AM", "ARRAY<MAP<STRING, INTEGER>>")),
    err("GROUP BY a struct holding a map", ["CREATE STREAM X (K STRING KEY, SM STRUCT<F MAP<STRING, INTEGER>>) WITH (kafka_topic='x', value_format='JSON', partitions=1);",
        "CREATE TABLE O WITH (key_format='JSON') AS SELECT SM, COUNT(*) AS C FROM X GROUP BY SM;"],
        MK.format("SM", "STRUCT<`F` MAP<STRING, INTEGER>>")),
    ok("a map value is fine", [MS, "CREATE STREAM O AS SELECT K, MV FROM M;"],
       [{"topic": "m", "key": "a", "value": {"MV": {"x": 1}}}], [{"topic": "O", "key": "a", "value": {"MV": {"x": 1}}}]),
    err("a DECIMAL KAFKA key keeps its precision in the schema",
        ["CREATE TABLE X (K DECIMAL(21,19) PRIMARY KEY, V BIGINT) WITH (kafka_topic='x', value_format='JSON', partitions=1);"],
        "schema: Persistence{columns=[`K` DECIMAL(21, 19) KEY], features=[]}\nreason: The 'KAFKA' format does not support type 'DECIMAL'"),
    err("PARTITION BY an array into a KAFKA key",
        ["CREATE STREAM X (K STRING KEY, A ARRAY<INT>) WITH (kafka_topic='x', value_format='JSON', partitions=1);",
         "CREATE STREAM O AS SELECT * FROM X PARTITION BY A;"],
        "schema: Persistence{columns=[`A` ARRAY<INTEGER> KEY], features=[]}\nreason: The 'KAFKA' format does not support type 'ARRAY'"),
]
files["err_formats"] = fmt

# ---- the NONE format -----------------------------------------------------------------------
J = "value_format='JSON'"
none = [
    err("NONE key of a keyed stream",
        [f"CREATE STREAM S (K STRING KEY, V INT) WITH (kafka_topic='t', key_format='NONE', {J}, partitions=1);"],
        "The 'NONE' format can only be used when no columns are defined. Got: [`K` STRING KEY]"),
    err("NONE key of a table",
        [f"CREATE TABLE T (K BIGINT PRIMARY KEY, V INT) WITH (kafka_topic='t', key_format='NONE', {J}, partitions=1);"],
        "The 'NONE' format can only be used when no columns are defined. Got: [`K` BIGINT KEY]"),
    err("NONE value with columns",
        ["CREATE STREAM S (V INT, W STRING) WITH (kafka_topic='t', value_format='NONE', partitions=1);"],
        "Value format does not support schema.\nformat: NONE\nschema: Persistence{columns=[`V` INTEGER, `W` STRING], features=[]}\n"
        "reason: The 'NONE' format can only be used when no columns are defined. Got: [`V` INTEGER, `W` STRING]"),
    err("NONE key set in a CSAS that has a key",
        [f"CREATE STREAM S (A INT, B INT) WITH (kafka_topic='t', {J}, partitions=1);",
         "CREATE STREAM O WITH (key_format='NONE') AS SELECT * FROM S PARTITION BY B;"],
        "The 'NONE' format can only be used when no columns are defined. Got: [`B` INTEGER KEY]"),
    err("NONE key set in a CTAS",
        [f"CREATE STREAM S (A INT, B INT) WITH (kafka_topic='t', {J}, partitions=1);",
         "CREATE TABLE O WITH (key_format='NONE') AS SELECT B AS K, COUNT(*) AS C FROM S GROUP BY B;"],
        "The 'NONE' format can only be used when no columns are defined. Got: [`K` INTEGER KEY]"),
    ok("NONE key of a keyless stream ignores the key",
        [f"CREATE STREAM S (V INT) WITH (kafka_topic='t', key_format='NONE', {J}, partitions=1);",
         "CREATE STREAM O AS SELECT * FROM S;"],
        [{"topic": "t", "key": "junk", "value": {"V": 1}}, {"topic": "t", "key": None, "value": {"V": 2}}],
        [{"topic": "O", "key": None, "value": {"V": 1}}, {"topic": "O", "key": None, "value": {"V": 2}}]),
    ok("NONE key set in a CSAS of a keyless stream",
        [f"CREATE STREAM S (V INT) WITH (kafka_topic='t', key_format='KAFKA', {J}, partitions=1);",
         "CREATE STREAM O WITH (key_format='NONE') AS SELECT * FROM S;"],
        [{"topic": "t", "key": "x", "value": {"V": 3}}],
        [{"topic": "O", "key": None, "value": {"V": 3}}]),
    ok("NONE key set in a CSAS partitioned by null",
        [f"CREATE STREAM S (ID INT KEY, V INT) WITH (kafka_topic='t', key_format='KAFKA', {J}, partitions=1);",
         "CREATE STREAM O WITH (key_format='NONE') AS SELECT * FROM S PARTITION BY null;"],
        [{"topic": "t", "key": 9, "value": {"V": 3}}],
        [{"topic": "O", "key": None, "value": {"V": 3, "ID": 9}}]),
    ok("an inherited NONE key becomes KAFKA under PARTITION BY",
        [f"CREATE STREAM S (A INT, B INT) WITH (kafka_topic='t', key_format='NONE', {J}, partitions=1);",
         "CREATE STREAM O AS SELECT * FROM S PARTITION BY B;"],
        [{"topic": "t", "key": None, "value": {"A": 1, "B": 7}}],
        [{"topic": "O", "key": 7, "value": {"A": 1}}]),
    ok("an inherited NONE key becomes KAFKA under GROUP BY",
        [f"CREATE STREAM S (A INT) WITH (kafka_topic='t', key_format='NONE', {J}, partitions=1);",
         "CREATE TABLE O AS SELECT A, COUNT(*) AS C FROM S GROUP BY A;"],
        [{"topic": "t", "value": {"A": 22}}],
        [{"topic": "O", "key": 22, "value": {"C": 1}}]),
    {"name": "an inherited NONE key takes ksql.persistence.default.format.key",
     "statements": [f"CREATE STREAM S (A INT) WITH (kafka_topic='t', key_format='NONE', {J}, partitions=1);",
                    "CREATE TABLE O AS SELECT A, COUNT(*) AS C FROM S GROUP BY A;"],
     "properties": {"ksql.persistence.default.format.key": "JSON"},
     "inputs": [{"topic": "t", "value": {"A": 22}}],
     "outputs": [{"topic": "O", "key": 22, "value": {"C": 1}}],
     "post": {"sources": [{"name": "O", "type": "table", "keyFormat": {"format": "JSON"}}]}},
    ok("an inherited NONE key becomes KAFKA in a join",
        ["CREATE TABLE T (ID INT PRIMARY KEY, VAL STRING) WITH (kafka_topic='tt', key_format='KAFKA', value_format='JSON', partitions=1);",
         f"CREATE STREAM S (ID INT) WITH (kafka_topic='s', key_format='NONE', {J}, partitions=1);",
         "CREATE STREAM O AS SELECT S.ID, VAL FROM S JOIN T ON S.ID = T.ID;"],
        [{"topic": "tt", "key": 10, "value": {"VAL": "hello"}, "timestamp": 0},
         {"topic": "s", "key": None, "value": {"ID": 10}, "timestamp": 1}],
        [{"topic": "O", "key": 10, "value": {"VAL": "hello"}}]),
]
files["err_none"] = none

# ---- parse errors --------------------------------------------------------------------------
SRC = "CREATE STREAM S (ID INT KEY, NAME STRING, AMOUNT INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);"
P = "Syntax Error\n"
typos = [("SELEC", "SELECT"), ("CRATE", "CREATE"), ("INSRT", "INSERT"), ("DESCRIBEE", "DESCRIBE"),
         ("PRNT", "PRINT"), ("EXPLAN", "EXPLAIN"), ("SHWO", "SHOW"), ("LSIT", "LIST"),
         ("TERMNATE", "TERMINATE"), ("DRPO", "DROP"), ("DEFNE", "DEFINE"), ("UNDEFNE", "UNDEFINE"),
         ("selec", "SELECT"), ("creat", "CREATE")]
parse = []
for w, want in typos:
    parse.append(err(f"misspelt statement {w}", [f"{w} * FROM S;"],
        f"line 1:1: {P}Unknown statement '{w}'\nDid you mean '{want}'?"))
parse.append(err("misspelt statement on the second line", [SRC, "SELEC * FROM S;"],
    f"line 2:1: {P}Unknown statement 'SELEC'\nDid you mean 'SELECT'?"))
for kw in ("FROM", "SELECT", "WHERE", "JOIN", "GROUP", "BY", "CASE", "AND", "OR", "NOT", "NULL",
           "TABLE", "STREAM", "WITH", "AS"):
    parse.append(err(f"reserved word {kw} as a column name",
        [f"CREATE STREAM X (A INT, {kw.lower()} INT) WITH (kafka_topic='x', value_format='JSON', partitions=1);"],
        f"line 1:25: {P}\"{kw.lower()}\" is a reserved keyword and it can't be used as an identifier. "
        f"You can use it as an identifier by escaping it as '{kw.lower()}' "))
brackets = [("SELECT * FROM S WHERE (AMOUNT = 1;", 34), ("SELECT ABS(AMOUNT FROM S;", 19),
            ("SELECT ARRAY[1, 2 FROM S;", 19), ("SELECT * FROM S WHERE AMOUNT IN (1, 2;", 38)]
for sql, col in brackets:
    parse.append(err(f"unclosed bracket: {sql}", [sql], f"{P}"))
parse.append(err("unclosed parenthesis at the end", ["SELECT * FROM S WHERE (AMOUNT = 1;"],
    f"line 1:34: {P}Syntax error at or near \";\"\n'}}', ']', or ')' is missing"))
others = [
    ("SELECT * FORM S;", "line 1:10: " + P + "Syntax error at or near 'FORM': expected FROM, ','; did you mean 'FROM'?"),
    ("SELECT * FROM S EMIT CHANGE;", "line 1:22: " + P + "Syntax error at or near 'CHANGE': expected CHANGES, FINAL; did you mean 'CHANGES'?"),
    ("SELECT NAME, FROM S;", "line 1:14: " + P + "Syntax error at or near 'FROM': expected an expression"),
    ("SELECT * FROM S WHERE AMOUNT = ;", "line 1:32: " + P + "Syntax error at or near ';': expected an expression"),
    ("DROP S;", "line 1:6: " + P + "Syntax error at or near 'S': expected STREAM, TABLE"),
    ("SELECT * FROM S LIMIT 'x';", "line 1:23: " + P + "Syntax error at or near ''x'': expected an integer"),
    ("SET auto = 'x';", "line 1:5: " + P + "Syntax error at or near 'auto': expected a string"),
    ("SELECT * FROM S WHERE AMOUNT IN ();", "line 1:34: " + P + "Syntax error at or near ')': expected an expression"),
    ("SELECT CASE ELSE 1 END FROM S;", "line 1:13: " + P + "Syntax error at or near 'ELSE': expected an expression"),
    ("SELECT * FROM S WHERE AMOUNT > 1 WHERE NAME = 'a';", "line 1:34: " + P + "Syntax error at or near 'WHERE'"),
    ("CREATE STREM X (A INT);", "line 1:8: " + P + "Syntax error at or near 'STREM'"),
    ("SELECT * FROM S WHERE NAME = 'a", "line 1:30: "),
]
for sql, m in others:
    parse.append(err(f"syntax error: {sql}", [sql], m))
files["err_syntax"] = parse

# ---- analyser messages ---------------------------------------------------------------------
an = []
an += [
    err("key column missing from a CSAS", [SRC, "CREATE STREAM O AS SELECT NAME FROM S;"],
        "Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\nThe query used to build `O` must include the key columns ID in its projection (eg, SELECT ID...)."),
    err("two key columns missing", [
        "CREATE STREAM M (K INT KEY, K2 INT KEY, V INT) WITH (kafka_topic='m', format='JSON', partitions=1);",
        "CREATE STREAM O AS SELECT V FROM M;"],
        "The query used to build `O` must include the key columns K and K2 in its projection (eg, SELECT K, K2...)."),
    err("one of two key columns missing", [
        "CREATE STREAM M (K INT KEY, K2 INT KEY, V INT) WITH (kafka_topic='m', format='JSON', partitions=1);",
        "CREATE STREAM O AS SELECT K, V FROM M;"],
        "The query used to build `O` must include the key columns K and K2 in its projection (eg, SELECT K, K2...)."),
    err("grouping expression missing", [SRC, "CREATE TABLE O AS SELECT COUNT(*) AS C FROM S GROUP BY NAME;"],
        "Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\nThe query used to build `O` must include the grouping expression NAME in its projection (eg, SELECT NAME...)."),
    err("grouping expressions missing", [SRC, "CREATE TABLE O WITH (key_format='JSON') AS SELECT NAME, COUNT(*) AS C FROM S GROUP BY NAME, AMOUNT;"],
        "The query used to build `O` must include the grouping expressions NAME and AMOUNT in its projection (eg, SELECT NAME, AMOUNT...)."),
    err("non-aggregate select expression", [SRC, "CREATE TABLE O AS SELECT NAME, AMOUNT, COUNT(*) AS C FROM S GROUP BY NAME;"],
        "Non-aggregate SELECT expression(s) not part of GROUP BY: AMOUNT\nEither add the column(s) to the GROUP BY or remove them from the SELECT."),
    err("non-aggregate select expression inside an expression", [SRC, "CREATE TABLE O AS SELECT NAME, AMOUNT + 1 AS X, COUNT(*) AS C FROM S GROUP BY NAME;"],
        "Non-aggregate SELECT expression(s) not part of GROUP BY: AMOUNT"),
]
calls = [("UCASE(AMOUNT)", "ucase", "INTEGER"), ("LCASE(AMOUNT)", "lcase", "INTEGER"),
         ("ABS(NAME)", "abs", "STRING"), ("SUBSTRING(NAME)", "substring", "STRING"),
         ("LEN(AMOUNT)", "len", "INTEGER"), ("CONCAT(AMOUNT, 1)", "concat", "INTEGER, INTEGER"),
         ("ROUND(NAME)", "round", "STRING"), ("FLOOR(NAME)", "floor", "STRING"),
         ("CEIL(NAME)", "ceil", "STRING"), ("TRIM(AMOUNT)", "trim", "INTEGER"),
         ("SPLIT(AMOUNT, ',')", "split", "INTEGER, STRING"), ("ARRAY_LENGTH(NAME)", "array_length", "STRING"),
         ("GREATEST(AMOUNT, NAME)", "greatest", "INTEGER, STRING"), ("LEAST(NAME, AMOUNT)", "least", "STRING, INTEGER"),
         ("SQRT(NAME)", "sqrt", "STRING"), ("REPLACE(AMOUNT, 'a', 'b')", "replace", "INTEGER, STRING, STRING")]
for call, fn, types in calls:
    an.append(err(f"{fn} of the wrong types", [SRC, f"CREATE STREAM O AS SELECT ID, {call} AS R FROM S;"],
        f"Function '{fn}' does not accept parameters ({types})"))
for agg, fn, types in (("SUM(NAME)", "sum", "STRING"), ("AVG(NAME)", "avg", "STRING"),
("HISTOGRAM(AMOUNT)", "histogram", "INTEGER")):
    an.append(err(f"aggregate {fn} of the wrong type", [SRC, f"CREATE TABLE O AS SELECT NAME, {agg} AS R FROM S GROUP BY NAME;"],
        f"Function '{fn}' does not accept parameters ({types})"))
an.append(err("the alternatives are listed", [SRC, "CREATE STREAM O AS SELECT ID, UCASE(AMOUNT) AS R FROM S;"],
    "Function 'ucase' does not accept parameters (INTEGER).\nValid alternatives are:\nUCASE(STRING) -> STRING"))
files["err_analysis"] = an

# ---- ksqlDB's non-reserved words as names --------------------------------------------------
nr = []
for w in ("FUNCTION", "PARTITION", "EMIT", "STRUCT", "MAP", "ARRAY", "KEY", "SESSION", "TOPIC",
          "SHOW", "SET", "LIST", "HEADER", "PROPERTIES", "REPLACE", "FINAL", "CHANGES", "PERIOD", "GRACE", "DEFINE"):
    nr.append(ok(f"{w} names a column",
        [f"CREATE STREAM S (ID INT KEY, {w} INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);",
         f"CREATE STREAM O AS SELECT ID, {w}, {w} + 1 AS N FROM S WHERE {w} > 0;"],
        [{"topic": "s", "key": 1, "value": {w: 5}}, {"topic": "s", "key": 2, "value": {w: -1}}],
        [{"topic": "O", "key": 1, "value": {w: 5, "N": 6}}]))
for w in ("FUNCTION", "PARTITION", "EMIT", "STRUCT", "MAP", "ARRAY"):
    nr.append(ok(f"{w} names a stream",
        [f"CREATE STREAM {w} (ID INT KEY, V INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);",
         f"CREATE STREAM O AS SELECT {w}.ID, V FROM {w};"],
        [{"topic": "s", "key": 1, "value": {"V": 5}}],
        [{"topic": "O", "key": 1, "value": {"V": 5}}]))
nr += [
    ok("ARRAY, MAP and STRUCT followed by a bracket still construct",
        ["CREATE STREAM S (ID INT KEY, V INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);",
         "CREATE STREAM O AS SELECT ID, ARRAY[V, 2] AS A, MAP('k' := V) AS M, STRUCT(F := V) AS T FROM S;"],
        [{"topic": "s", "key": 1, "value": {"V": 5}}],
        [{"topic": "O", "key": 1, "value": {"A": [5, 2], "M": {"k": 5}, "T": {"F": 5}}}]),
    ok("a column named PARTITION used in PARTITION BY",
        ["CREATE STREAM S (ID INT KEY, PARTITION STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);",
         "CREATE STREAM O AS SELECT PARTITION, ID FROM S PARTITION BY PARTITION;"],
        [{"topic": "s", "key": 1, "value": {"PARTITION": "p"}}],
        [{"topic": "O", "key": "p", "value": {"ID": 1}}]),
    ok("a source aliased AS EMIT",
        ["CREATE STREAM S (ID INT KEY, V INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);",
         "CREATE STREAM O AS SELECT EMIT.ID, EMIT.V FROM S AS EMIT;"],
        [{"topic": "s", "key": 1, "value": {"V": 5}}],
        [{"topic": "O", "key": 1, "value": {"V": 5}}]),
]
files["err_names"] = nr

# ---- PARTITION BY several expressions ------------------------------------------------------
PS = "CREATE STREAM S (NAME STRING, ID INT, AGE INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);"
def pcase(name, select, by, v, key, val, kf="JSON"):
    return ok(name, [PS, f"CREATE STREAM O WITH (key_format='{kf}') AS SELECT {select} FROM S PARTITION BY {by};"],
              [{"topic": "t", "key": None, "value": v}], [{"topic": "O", "key": key, "value": val}])
V = {"NAME": "a", "ID": 1, "AGE": 30}
pb = [
    pcase("two projected columns", "ID, AGE, NAME", "ID, AGE", V, {"ID": 1, "AGE": 30}, {"NAME": "a"}),
    pcase("the key follows the PARTITION BY order", "ID, AGE, NAME", "AGE, ID", V, {"AGE": 30, "ID": 1}, {"NAME": "a"}),
    pcase("two columns not projected", "NAME", "AGE, ID", V, {"AGE": 30, "ID": 1}, {"NAME": "a"}),
    pcase("select star by two columns", "*", "NAME, ID", V, {"NAME": "a", "ID": 1}, {"AGE": 30}),
    pcase("three columns", "*", "NAME, ID, AGE", V, {"NAME": "a", "ID": 1, "AGE": 30}, {}),
    pcase("an expression and a column", "NAME, ID", "ID, AGE + 1", V, {"ID": 1, "KSQL_COL_0": 31}, {"NAME": "a"}),
    pcase("an aliased expression", "NAME, ID, AGE * 2 AS A2", "ID, AGE * 2", V, {"ID": 1, "A2": 60}, {"NAME": "a"}),
    pcase("null parts of the key", "*", "NAME, ID", {"NAME": None, "ID": None, "AGE": 3}, {"NAME": None, "ID": None}, {"AGE": 3}),
    pcase("a function of a column", "ID", "ID, UCASE(NAME)", V, {"ID": 1, "KSQL_COL_0": "A"}, {}),
    ok("several rows keep their order",
       [PS, "CREATE STREAM O WITH (key_format='JSON') AS SELECT * FROM S PARTITION BY ID, NAME;"],
       [{"topic": "t", "key": None, "value": {"NAME": n, "ID": i, "AGE": i * 10}} for i, n in enumerate("abc")],
       [{"topic": "O", "key": {"ID": i, "NAME": n}, "value": {"AGE": i * 10}} for i, n in enumerate("abc")]),
    err("several expressions into a KAFKA key", [PS, "CREATE STREAM O AS SELECT * FROM S PARTITION BY ID, AGE;"],
        "Key format does not support schema."),
    err("a column named twice", [PS, "CREATE STREAM O WITH (key_format='JSON') AS SELECT * FROM S PARTITION BY ID, ID;"],
        "PARTITION BY names ID twice"),
    err("NULL among others", [PS, "CREATE STREAM O WITH (key_format='JSON') AS SELECT * FROM S PARTITION BY ID, NULL;"],
        "PARTITION BY NULL cannot be combined with other expressions"),
    err("on a table", ["CREATE TABLE T (K INT PRIMARY KEY, A INT, B INT) WITH (kafka_topic='tt', value_format='JSON', partitions=1);",
                       "CREATE TABLE O AS SELECT * FROM T PARTITION BY A, B;"],
        "PARTITION BY is not supported on tables"),
]
files["err_partition"] = pb

# ---- v->*: every field of a STRUCT -----------------------------------------------------------
SS = "CREATE STREAM S (K INT KEY, V STRUCT<A INT, B STRING>, W STRUCT<C STRUCT<D INT>>) WITH (kafka_topic='s', value_format='JSON', partitions=1);"
SV = {"V": {"A": 1, "B": "x"}, "W": {"C": {"D": 4}}}
def scase(name, select, want):
    return ok(name, [SS, f"CREATE STREAM O AS SELECT {select} FROM S;"],
              [{"topic": "s", "key": 1, "value": SV}], [{"topic": "O", "key": 1, "value": want}])
sa = [
    scase("the fields of a struct", "K, V->*", {"A": 1, "B": "x"}),
    scase("qualified", "S.K, S.V->*", {"A": 1, "B": "x"}),
    scase("with other columns", "K, V->A AS FA, V->*", {"FA": 1, "A": 1, "B": "x"}),
    scase("a nested struct", "K, W->C->*", {"D": 4}),
    scase("a struct of structs", "K, W->*", {"C": {"D": 4}}),
    scase("two structs", "K, V->*, W->C->*", {"A": 1, "B": "x", "D": 4}),
    ok("a null struct gives null fields", [SS, "CREATE STREAM O AS SELECT K, V->* FROM S;"],
       [{"topic": "s", "key": 1, "value": {"V": None}}], [{"topic": "O", "key": 1, "value": {"A": None, "B": None}}]),
    err("->* of a non-struct", [SS, "CREATE STREAM O AS SELECT K, K->* FROM S;"], "->* needs a STRUCT"),
    err("->* clashing with a column", [SS, "CREATE STREAM O AS SELECT K, V->A AS A, V->* FROM S;"],
        "duplicate value column name 'A'"),
]
files["err_struct_all"] = sa

total = 0
for name, cases in files.items():
    with open(os.path.join(HERE, "cases", name + ".json"), "w") as f:
        f.write("// " + name + ": weir's own cases, written by err_cases.py\n")
        json.dump({"tests": cases}, f, indent=1)
        f.write("\n")
    total += len(cases)
print(total, "cases")
