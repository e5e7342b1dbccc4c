"""`nlpkit ui`: start the local web app over the store (read-only)."""

from __future__ import annotations

import typer

from nlpkit.cli import app
from nlpkit.cli._common import console, get_store
from nlpkit.errors import ConfigError

__all__ = ["ui"]


@app.command()
def ui(
    port: int = typer.Option(8501, "--port", "-p", help="Port to listen on (0: any free port)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind; keep 127.0.0.1 unless others must reach it."),
    no_warm: bool = typer.Option(False, "--no-warm", help="Do not preload datasets and tokenizers at start-up."),
) -> None:
    """Explore the store in a browser: articles, search, clusters, trends, models, SQL (read-only)."""
    import uvicorn

    from nlpkit.ui.app import create_app

    if not 0 <= port <= 65535:
        raise ConfigError(f"--port {port}: use 0-65535 (0 picks a free port)")
    store = get_store()
    application = create_app(store, warm=not no_warm)
    console.print(f"nlpkit ui over {store.root} on http://{host}:{port}/ (Ctrl+C stops it)")
    uvicorn.run(application, host=host, port=port, log_level="warning")
