"""The model engine: the Mistral gateway, prompts, errors. A plain library: no Django, no Docs."""
