"""Consumer Pact tests of the example fleet: one module per pact in contracts/."""
