"""graph_writer: relationships from events into the graph store, and a read API over it."""
