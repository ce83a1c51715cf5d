"""The review pages under `/ui`: server-rendered, signed in with a reviewer or auditor key."""
