"""Runtime backends: where agent containers run (base: the interface; docker: Docker)."""
