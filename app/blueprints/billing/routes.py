"""The Stripe webhook (signature verified, each event applied once) and the billing page."""

from __future__ import annotations

import stripe
from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from app.extensions import csrf
from app.services import billing, stripe_gateway
from app.tenants.resolution import current_tenant

bp = Blueprint("billing", __name__)


@bp.post("/webhooks/stripe")
def stripe_webhook():
    """Verify the signature and hand the event to billing, in the request's one unit of work.

    Stripe delivers at least once and resends anything but a 2xx, so a replay (even one
    racing the first delivery) is answered 200 with the outcome "replay ignored".
    """
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
    return jsonify({"received": True, "outcome": outcome})


# Stripe signs its requests and no session comes with them: nothing for CSRF to protect.
csrf.exempt(stripe_webhook)


@bp.get("/t/<tenant_slug>/billing")
def page():
    """The district's billing: open to its program admins in every state, lapsed included."""
    tenant = current_tenant()
    invoices, problem = [], None
    if stripe_gateway.configured() and tenant.stripe_customer_id:
        try:
            invoices = stripe_gateway.invoices(tenant)
        except stripe.StripeError as exc:
            problem = f"Stripe did not answer: {exc.user_message or 'try again later'}"
    return render_template(
        "billing/page.html",
        tenant=tenant,
        standing=billing.standing(tenant),
        plan_name=billing.plan_name(tenant),
        can_subscribe=billing.can_subscribe(tenant),
        plans=current_app.config["PLANS"],
        invoices=invoices,
        invoice_labels=billing.INVOICE_LABELS,
        problem=problem,
        configured=stripe_gateway.configured(),
        back_from=request.args.get("from"),
    )


def _stripe_redirect(make_url):
    try:
        return redirect(make_url(), 303)
    except stripe.StripeError as exc:
        flash(f"Stripe did not answer: {exc.user_message or 'try again later'}", "error")
        return redirect(url_for("billing.page"))


@bp.post("/t/<tenant_slug>/billing/checkout")
def checkout():
    """Stripe Checkout for a plan's subscription; Stripe's page takes the card."""
    tenant = current_tenant()
    plan = current_app.config["PLANS"].get(request.form.get("plan", ""))
    if not billing.can_subscribe(tenant):
        flash(
            "This district already has a subscription: change its card or plan under "
            "“Manage cards and cancellation”.",
            "error",
        )
        return redirect(url_for("billing.page"))
    if plan is None or not plan.get("stripe_price") or not stripe_gateway.configured():
        flash("This plan cannot be bought online yet; write to us.", "error")
        return redirect(url_for("billing.page"))
    done = url_for("billing.page", _external=True, **{"from": "checkout"})
    back = url_for("billing.page", _external=True)
    return _stripe_redirect(
        lambda: stripe_gateway.checkout_url(tenant, plan["stripe_price"], done, back)
    )


@bp.post("/t/<tenant_slug>/billing/portal")
def portal():
    """Stripe's customer portal: cards, the unpaid invoice, cancellation."""
    tenant = current_tenant()
    if not stripe_gateway.configured() or not tenant.stripe_customer_id:
        flash("Billing is not set up for this district yet.", "error")
        return redirect(url_for("billing.page"))
    back = url_for("billing.page", _external=True, **{"from": "portal"})
    return _stripe_redirect(lambda: stripe_gateway.portal_url(tenant, back))
