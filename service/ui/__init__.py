"""The pages under `/ui`: server-rendered, signed in with a reviewer, auditor or author key."""
