"""Developer submissions: manifests, build/scan/smoke-test pipeline (issue 7)."""
