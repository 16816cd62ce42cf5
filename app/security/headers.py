"""Security headers on every response, from one after-request hook.

A small hook rather than a library: the policy is a handful of fixed headers,
and each one has its own test (``tests/test_security_headers.py``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, g

#: Where form posts may leave for: Stripe's hosted Checkout and customer portal.
STRIPE_FORM_TARGETS = ("https://checkout.stripe.com", "https://billing.stripe.com")


def content_security_policy(stripe_api_base: str | None = None) -> str:
    """No inline script or style anywhere: the pages load only their own files. Form posts
    may leave only for Stripe's hosted pages, which a district pointed at another Stripe
    (``STRIPE_API_BASE``: a test server) finds at that server's origin instead."""
    targets = list(STRIPE_FORM_TARGETS)
    if stripe_api_base:
        parts = urlsplit(stripe_api_base)
        targets.append(f"{parts.scheme}://{parts.netloc}")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: https:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            f"form-action 'self' {' '.join(targets)}",
            "frame-ancestors 'none'",
        ]
    )


#: The policy of a deployment that talks to Stripe itself.
CONTENT_SECURITY_POLICY = content_security_policy()
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
    policy = content_security_policy(app.config.get("STRIPE_API_BASE"))

    @app.after_request
    def _security_headers(response: Response) -> Response:
        svg = response.mimetype == "image/svg+xml"
        response.headers["Content-Security-Policy"] = SVG_POLICY if svg else policy
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
