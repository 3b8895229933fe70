"""The image's HEALTHCHECK: exit 0 when `townsquare run` in this container answers /healthz.

Standard library only (the image has no curl). Follows the server's own settings: the port,
and HTTPS when the server serves TLS itself (the certificate names the public host, not
127.0.0.1, so it is not verified here: this probes liveness, not identity).
"""

from __future__ import annotations

import os
import ssl
import sys
import urllib.request

port = os.environ.get("TOWNSQUARE_SERVER__PORT", "8000")
context = None
scheme = "http"
if os.environ.get("TOWNSQUARE_SERVER__TLS_CERTFILE"):
    scheme = "https"
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
try:
    with urllib.request.urlopen(f"{scheme}://127.0.0.1:{port}/healthz", timeout=4, context=context) as response:  # noqa: S310
        sys.exit(0 if response.status == 200 else 1)
except OSError as error:
    sys.exit(f"unhealthy: {error}")
