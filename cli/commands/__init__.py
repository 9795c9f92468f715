"""One module per command group; each is thin: parse, call one operation, render."""
