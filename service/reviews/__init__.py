"""Human review: tasks opened by routed and sampled decisions, worked by named queues."""
