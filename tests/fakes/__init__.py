"""Real HTTP servers on loopback that play suite_ai's peers in tests: Mistral, Docs, an OIDC provider."""
