"""`resizer deploy`: package, plan a change set, confirm, then follow the stack until it settles."""

import sys
from typing import Annotated

import typer

from cli import context, render
from cli.commands import stack_events
from cli.errors import handles_errors
from cli.options import Common, targeted
from operations import deploy as deploy_op
from operations import jsonable
from operations import status as status_op
from operations.errors import Cancelled


@handles_errors
@targeted()
def deploy(
    parameter: Annotated[
        list[str] | None,
        typer.Option(
            "--parameter", "-p", help="Template parameter Name=Value (repeatable); see resizer.toml."
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Execute the change set without asking.")] = False,
    platform: Annotated[
        str | None,
        typer.Option(help="Build the zip for this platform; on AWS only the stack's Architecture."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Plan a change set even if nothing changed since.")
    ] = False,
    *,
    options: Common,
) -> None:
    """Deploy the stack through a CloudFormation change set, showing its events live.

    Parameters not given keep the stack's current values. Exits 0 when the stack is deployed or
    already up to date; non-zero with the root cause of a failure.
    Examples: resizer deploy · resizer deploy -p MemorySize=2048 --yes
    """
    settings = context.settings(options, parameter)
    clients = context.clients(settings)
    with render.err.status("Linting, packaging and planning the change set..."):
        planned = deploy_op.plan(clients, settings, platform=platform, force=force)
    if planned.no_changes:
        if options.json:
            render.emit_json({"event": "no_changes", "stack": planned.stack, "skipped": planned.skipped})
        elif planned.skipped:
            render.out.print(
                f"No changes: stack [bold]{planned.stack}[/] is up to date ({render.safe(planned.skipped)}; "
                "lint, build and change set skipped; --force plans one anyway)."
            )
        else:
            render.out.print(f"No changes: stack [bold]{planned.stack}[/] is up to date.")
        return
    show_plan(planned, options.json)
    if not yes and not confirmed():
        deploy_op.discard(clients, planned)
        raise Cancelled(
            "deploy cancelled; the change set was deleted",
            hint="" if sys.stdin.isatty() else "pass --yes to deploy non-interactively",
        )
    settled = stack_events.show(deploy_op.execute(clients, planned), options.json, "Deploying...")
    if settled and not options.json:
        result = status_op.status(clients, planned.stack)
        render.out.print(f"[green]Deployed[/] {planned.stack}: {render.styled_status(result.status)}")
        if result.outputs:
            render.out.print(render.key_values(result.outputs, title="Outputs"))


def show_plan(planned: deploy_op.Plan, as_json: bool) -> None:
    if as_json:
        render.emit_json({"event": "plan", **jsonable.deploy_plan(planned)})
        return
    verb = {"CREATE": "Create", "IMPORT": "Create (adopting its images bucket)"}.get(
        planned.change_set_type, "Update"
    )
    note = ""
    if planned.artifact is not None:
        upload = "already published" if planned.artifact.present else "uploaded when you confirm"
        note = f" with code {planned.artifact.key} ({upload})"
    render.out.print(f"{verb} stack [bold]{planned.stack}[/]{note}")
    for bucket in planned.retained_buckets:
        render.out.print(f"[yellow]note:[/] {render.safe(retained_note(planned.stack, bucket))}")
    show_parameters(planned)
    changes = render.table("action", "resource", "type", "replacement")
    for change in planned.changes:
        style = render.ACTION_STYLES.get(change.action, "cyan")
        changes.add_row(
            f"[{style}]{change.action}[/]",
            render.safe(change.logical_id),
            change.resource_type,
            change.replacement,
        )
    if planned.changes:
        render.out.print(changes)
    else:
        render.out.print("[dim](the endpoint listed no resource-level changes)[/]")


def retained_note(stack: str, bucket: str) -> str:
    return (
        f"the images bucket {bucket}, kept when an earlier stack {stack} was destroyed, is not used by "
        f"this plan (a new bucket is made); to serve its images again, adopt it instead: "
        f"resizer deploy -p BucketName={bucket}"
    )


def show_parameters(planned: deploy_op.Plan) -> None:
    """Changed parameters (old → new, NoEcho as ****), and how many keep their value."""
    changed = planned.changed_parameters
    kept = len(planned.parameter_changes) - len(changed)
    if changed:
        rows = render.table("parameter", "value")
        for change in changed:
            rows.add_row(change.name, render.safe(change.shown))
        render.out.print(rows)
    if planned.change_set_type == "UPDATE":
        render.out.print(f"[dim]{kept} other parameter(s) keep their current values.[/]")


def confirmed() -> bool:
    """Ask on a terminal; without one, there is nobody to say yes."""
    return sys.stdin.isatty() and typer.confirm("Execute this change set?", default=False)
