"""The live catalogue: item writes, the strongly consistent filter store, incremental indexing."""
