"""Rate limiting: rules, window algorithms, and their state in Durable Object shards."""
