"""JSON API v1: bearer-token access to achievements and demands, strict JSON bodies and an OpenAPI 3.1 document."""
