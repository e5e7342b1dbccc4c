"""Datasets: rebuildable public corpora (``registry``), IMDB (``imdb``), Korean (``korean``), LM (``lm``)
and analysts' own corpora (``importer``). Submodules are imported on use; importing this package is cheap."""

__all__: list[str] = []
