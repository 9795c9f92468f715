"""The `resizer` command line: a thin Typer front end over operations/."""
