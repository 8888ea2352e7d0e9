"""graph_writer's adapters: Neptune (production) and embedded FalkorDB (local), over the same openCypher."""
