"""The evaluation engine: task definition -> data -> settings -> embeddings and cache -> search -> scoring."""
