"""Security headers on every response, from one after-request hook.

A small hook rather than a library: the policy is a handful of fixed headers,
and each one has its own test (``tests/test_security_headers.py``).
"""

from __future__ import annotations

from flask import Flask, Response, g

#: No inline script or style anywhere: the pages load only their own files.
#: Form posts may leave only for Stripe's hosted Checkout and customer portal.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self' https://checkout.stripe.com https://billing.stripe.com",
        "frame-ancestors 'none'",
    ]
)
#: Charts are SVG documents with their own stylesheet; opened directly they may style
#: themselves but never run script.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"

FIXED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    hsts = bool(app.config.get("HSTS"))

    @app.after_request
    def _security_headers(response: Response) -> Response:
        svg = response.mimetype == "image/svg+xml"
        response.headers["Content-Security-Policy"] = SVG_POLICY if svg else CONTENT_SECURITY_POLICY
        for name, value in FIXED.items():
            response.headers.setdefault(name, value)
        if hsts:
            response.headers["Strict-Transport-Security"] = HSTS
        # Personnel data must not linger in shared or browser caches. (Only a user this
        # request already loaded counts: static files need no lookup.)
        user = g.get("_login_user")
        if user is not None and user.is_authenticated and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response
