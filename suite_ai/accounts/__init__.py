"""Who calls suite_ai: users (keyed by their OIDC ``sub``), local API tokens, service tokens."""
