"""Learning data for the whole institution: the table's exports as Parquet datasets and SQL over them."""
