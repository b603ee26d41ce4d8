"""Runtime: runs in locked-down containers, streamed live (issue 4)."""
