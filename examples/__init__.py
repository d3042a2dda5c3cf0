"""A small runnable fleet of services (FastAPI) and their consumers' Pact tests.

See examples/README.md: `python -m examples.fleet serve` starts the providers on 127.0.0.1, and
`make pacts` regenerates contracts/*/pacts/ from the consumer tests in examples/consumers/.
"""
