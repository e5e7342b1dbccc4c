"""`nlpkit ui`: start the local web app over the store (read-only)."""

from __future__ import annotations

import socket

import typer

from nlpkit.cli import app
from nlpkit.cli._common import console, get_store
from nlpkit.errors import ConfigError

__all__ = ["ui"]


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one), or one error line saying what to change."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port {port}: use 0-65535 (0 picks a free port)")
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as e:
        sock.close()
        raise ConfigError(f"port {port} on {host} is not available ({e.strerror or e}): pick another with --port "
                          "(0 picks a free one) or check --host") from None
    return sock


@app.command()
def ui(
    port: int = typer.Option(8501, "--port", "-p", help="Port to listen on (0: any free port)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind; keep 127.0.0.1 unless others must reach it."),
    no_warm: bool = typer.Option(False, "--no-warm", help="Do not preload datasets and tokenizers at start-up."),
    allow_host: list[str] = typer.Option([], "--allow-host", help="Another Host name the app answers to "
                                         "(repeatable); 127.0.0.1, localhost and ::1 always are."),
) -> None:
    """Explore the store in a browser: articles, search, clusters, trends, models, SQL (read-only)."""
    import uvicorn

    from nlpkit.ui.app import create_app

    sock = _listen(host, port)
    store = get_store()
    application = create_app(store, warm=not no_warm, allowed_hosts=tuple(allow_host))
    bound = sock.getsockname()[1]
    shown = host if host not in ("0.0.0.0", "::") else "127.0.0.1"  # a wildcard address is not a Host it answers
    console.print(f"nlpkit ui over {store.root}: http://{f'[{shown}]' if ':' in shown else shown}:{bound}/ "
                  "(read-only; Ctrl+C stops it)")
    server = uvicorn.Server(uvicorn.Config(application, log_level="warning"))
    server.run(sockets=[sock])
