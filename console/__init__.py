"""The web console: a FastAPI + Jinja2 front end over operations/, with the same features as the CLI."""
