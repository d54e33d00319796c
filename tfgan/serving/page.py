"""The sample page's static files, served at `/` and `/page/<file>` of the REST port.

The page (`page/index.html` and its ES modules) asks only TF Serving's public REST API, so the
same files work in front of the stock server behind a proxy. That API cannot list models, so
the page reads their names from its own URL (`/?model=mnist&model=ring`); `/` without a
`model` parameter is redirected to the names this server serves.
"""

import pathlib
import urllib.parse

from aiohttp import web

PAGE_DIR = pathlib.Path(__file__).with_name("page")
_CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
_PAGE_PREFIX = "/page/"


def page_answer(method, path, query, model_names):
    """The answer to a request for the page, or None when the path is not the page's.

    Args:
        method: str, the HTTP method; only `GET` is answered.
        path: str, the request path without its query string.
        query: str, the raw query string.
        model_names: list of str, the models the server serves (for the redirect of `/`).

    Returns:
        `aiohttp.web.Response` or None.
    """
    if method != "GET":
        return None
    if path == "/":
        if "model" not in urllib.parse.parse_qs(query):
            names = urllib.parse.urlencode([("model", name) for name in model_names])
            return web.Response(status=302, headers={"Location": f"/?{names}"})
        return _file_response("index.html")
    if path.startswith(_PAGE_PREFIX):
        return _file_response(path[len(_PAGE_PREFIX):])
    return None


def _file_response(name):
    file = PAGE_DIR / name
    if "/" in name or file.suffix not in _CONTENT_TYPES or not file.is_file():
        return None
    return web.Response(body=file.read_bytes(), content_type=_CONTENT_TYPES[file.suffix],
                        headers={"Cache-Control": "no-cache"})
