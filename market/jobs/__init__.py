"""Background jobs: kinds registered by name, run by RQ workers on Redis, or in-process when no Redis is configured."""
