"""`resizer status`: the stack, how images are delivered, its outputs and resources, its functions
(the resizer and, when the stack has it, the cleanup with its EventBridge rule)."""

from cli import context, render
from cli.errors import handles_errors
from cli.options import Common, targeted
from operations import jsonable
from operations import status as status_op
from operations.aws import local_cloud_saving_problem


@handles_errors
@targeted()
def status(
    *,
    options: Common,
) -> None:
    """Show the stack's status, outputs, resources and its functions' configuration.

    Examples: resizer status · resizer status --output json | jq .outputs.WebsiteUrl
    """
    settings = context.settings(options)
    clients = context.clients(settings)
    result = status_op.status(clients, settings.target.stack)
    if clients.endpoint_url and (problem := local_cloud_saving_problem(clients.endpoint_url)):
        render.error(f"the local cloud cannot save its state: {problem}", "free space or fix the data folder")
    if options.json:
        render.emit_json(jsonable.stack_status(result, status_op.secret_parameters()))
        return
    render.out.print(
        f"[bold]{result.stack}[/]  {render.styled_status(result.status)}"
        + (f"  [dim]{render.safe(result.reason)}[/]" if result.reason else "")
        + (f"  [dim]updated {result.updated:%Y-%m-%d %H:%M:%S %Z}[/]" if result.updated else "")
    )
    if result.delivery:
        d = result.delivery
        render.out.print(
            render.key_values(
                {"mode": d.mode, "images at": d.base_url or "-"}
                | ({"distribution": d.distribution_id} if d.cdn else {}),
                title="Delivery",
            )
        )
    if result.outputs:
        render.out.print(render.key_values(result.outputs, title="Outputs"))
    if result.function:
        _function(result.function, "Function (resize)")
    if result.cleanup:
        _function(result.cleanup, "Function (cleanup)")
    if result.cleanup_rule:
        rule = result.cleanup_rule
        state = f"[green]{rule.state}[/]" if rule.enabled else f"[bold yellow]{rule.state}[/]"
        render.out.print(
            render.key_values(
                {"name": rule.name, "state": state}
                | ({} if rule.enabled else {"effect": "resized images of changed originals are not deleted"}),
                title="Cleanup rule (EventBridge)",
            )
        )
    resources = render.table("resource", "type", "status", title="Resources")
    for r in result.resources:
        resources.add_row(render.safe(r.logical_id), r.resource_type, render.styled_status(r.status))
    render.out.print(resources)


def _function(f: status_op.FunctionInfo, title: str) -> None:
    render.out.print(
        render.key_values(
            {
                "name": f.name,
                "runtime": f"{f.runtime} ({f.architecture})",
                **({"runs locally under": f.local_runtime} if f.local_runtime else {}),
                "memory / timeout": f"{f.memory_mb} MB / {f.timeout_s} s",
                "reserved concurrency": "unreserved"
                if f.reserved_concurrency is None
                else f.reserved_concurrency,
                "code": f"{f.code_sha256} ({f.code_size:,} bytes)",
                "state": f.state or "-",
                "last modified": f.last_modified,
            },
            title=title,
        )
    )
    if f.local_warning:
        render.err.print(f"[bold yellow]warning:[/] {render.safe(f.local_warning)}")
