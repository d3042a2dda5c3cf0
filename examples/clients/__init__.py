"""Small HTTP clients the example fleet's consumers use to call their providers.

Each client is what a consumer's own code would hold; its Pact tests (examples/consumers/) run it
against pact-python's mock server, and the pacts they write are the fleet's consumer contracts.
"""
