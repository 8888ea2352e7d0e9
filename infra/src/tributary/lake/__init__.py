"""The archive as a lake: typed tables per contract version, queried with the same SQL locally (DuckDB
over the archive read from S3) and on AWS (Athena over the Glue tables and views the CDK app creates).

- :mod:`contracts.tables` describes the tables; :mod:`.glue` derives the Glue tables and Athena views;
- :mod:`.archive` reads the archive's objects (layout from the archiver), :mod:`.rows` types their lines;
- :mod:`.local` and :mod:`.athena` run SQL; :mod:`.queries` are the seed questions; :mod:`.compact` merges
  a closed hour's objects into one.
"""
