"""Rule functions: Spectral's core and OpenAPI functions, and apigov's governance ones."""
