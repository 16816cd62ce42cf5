"""The Stripe webhook (signature verified, each event applied once) and the billing page."""

from __future__ import annotations

import stripe
from flask import Blueprint, current_app, jsonify, render_template, request

from app.extensions import csrf
from app.services import billing, uow
from app.tenants.resolution import current_tenant

bp = Blueprint("billing", __name__)
csrf.exempt(bp)  # Stripe signs its requests; there is no session to forge


@bp.post("/webhooks/stripe")
def stripe_webhook():
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        return jsonify({"errors": {"webhook": ["Billing is not configured."]}}), 400
    try:
        event = stripe.Webhook.construct_event(
            request.get_data(), request.headers.get("Stripe-Signature", ""), secret
        )
    except (ValueError, stripe.SignatureVerificationError):
        return jsonify({"errors": {"signature": ["The signature does not verify."]}}), 400
    outcome = billing.apply_event(event.to_dict())
    uow.commit()
    return jsonify({"received": True, "outcome": outcome})


@bp.get("/t/<tenant_slug>/billing")
def page():
    tenant = current_tenant()
    return render_template(
        "billing/page.html",
        tenant=tenant,
        state=billing.state(tenant),
        plans=current_app.config["PLANS"],
    )
