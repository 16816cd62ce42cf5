"""A Stripe-compatible server (localstripe) on loopback for the billing tests.

localstripe answers Stripe's API for customers, plans, subscriptions, invoices and
webhooks, but not Checkout nor the customer portal, which are pages Stripe hosts. Run as a
script, this module starts localstripe itself with those two added in its own terms: the
sessions are created through the API as Stripe's are (``/v1/checkout/sessions``,
``/v1/billing_portal/sessions``), and their pages, under localstripe's unauthenticated
``/_config/`` prefix (a browser brings no API key), act through localstripe's own
objects: a card is a PaymentMethod attached to the customer, paying is localstripe paying
the invoice, subscribing and canceling are its Subscription's, and every webhook is the
one localstripe sends for them. Only ``checkout.session.completed`` is sent from here.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from html import escape

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def localstripe():
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--port", str(port), "--from-scratch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("localstripe did not start (it is installed by `make test`)", pytrace=False)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


# --- Checkout and the customer portal, added to localstripe (run as a script) ----------

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title}</title></head><body><main><h1>{title}</h1>{body}</main></body></html>"""

_CARD_FORM = """<form method="post" action="{action}">
<label for="number">Card number</label> <input id="number" name="number" autocomplete="off">
<button type="submit">{button}</button></form>"""


def _add_hosted_pages() -> None:
    from aiohttp import web
    from localstripe import resources as ls
    from localstripe.server import api_create, app
    from localstripe.webhooks import schedule_webhook

    # Each test starts its own server from scratch: nothing to keep on disk, and servers of
    # parallel runs would otherwise all write the same /tmp/localstripe.pickle.
    ls.Store.dump_to_disk = lambda self: None

    class CheckoutSession(ls.StripeObject):
        """A Checkout session in subscription mode: one price, paid by card on its page."""

        object = "checkout.session"
        _id_prefix = "cs_test_"

        def __init__(
            self,
            customer=None,
            line_items=None,
            success_url=None,
            cancel_url=None,
            mode="subscription",
            metadata=None,
            client_reference_id=None,
            subscription_data=None,
            **kwargs,
        ):
            if kwargs or mode != "subscription" or not customer or not line_items:
                raise ls.UserError(400, "Unexpected: only subscription mode for a customer")
            ls.Plan._api_retrieve(line_items[0]["price"])  # 404 for an unknown price
            super().__init__()
            self.mode = mode
            self.customer = customer
            self.price = line_items[0]["price"]
            self.success_url = success_url
            self.cancel_url = cancel_url
            self.metadata = metadata or {}
            self.client_reference_id = client_reference_id
            self.subscription_metadata = (subscription_data or {}).get("metadata") or {}
            self.subscription = None
            self.status = "open"
            self.url = f"{_base}/_config/hosted/checkout/{self.id}"

    class PortalSession(ls.StripeObject):
        """A customer portal session: the customer's card, unpaid invoices, cancellation."""

        object = "billing_portal.session"
        _id_prefix = "bps_"

        def __init__(self, customer=None, return_url=None, **kwargs):
            if kwargs or not customer:
                raise ls.UserError(400, "Unexpected: a customer is needed")
            ls.Customer._api_retrieve(customer)
            super().__init__()
            self.customer = customer
            self.return_url = return_url
            self.url = f"{_base}/_config/hosted/portal/{self.id}"

    def page(title: str, body: str, status: int = 200) -> web.Response:
        html = _PAGE.format(title=escape(title), body=body)
        return web.Response(text=html, content_type="text/html", status=status)

    def refusal(error: ls.UserError) -> str:
        return error.body["error"].get("message") or "The card was refused."

    def use_card(customer: str, number: str) -> None:
        """The card becomes the customer's default (a declined one raises UserError)."""
        card = ls.PaymentMethod._api_create(
            type="card", card={"number": number, "exp_month": 12, "exp_year": 2040, "cvc": "123"}
        )
        ls.PaymentMethod._api_attach(card.id, customer=customer)
        ls.Customer._api_update(customer, invoice_settings={"default_payment_method": card.id})

    async def checkout_page(request: web.Request) -> web.Response:
        session = CheckoutSession._api_retrieve(request.match_info["id"])
        plan = ls.Plan._api_retrieve(session.price)
        amount = f"${plan.amount / 100:,.2f} a {plan.interval}"
        form = _CARD_FORM.format(action=session.url, button="Subscribe")
        back = f'<p><a href="{escape(session.cancel_url)}">Back</a></p>'
        return page("Checkout", f"<p>{escape(plan.name)}: {amount}</p>{form}{back}")

    async def checkout_pay(request: web.Request) -> web.Response:
        session = CheckoutSession._api_retrieve(request.match_info["id"])
        form = await request.post()
        try:
            use_card(session.customer, form.get("number", ""))
            subscription = ls.Subscription._api_create(
                customer=session.customer,
                items=[{"plan": session.price}],
                metadata=session.subscription_metadata,
            )
        except ls.UserError as error:
            return page("Checkout", f'<p role="alert">{escape(refusal(error))}</p>', 402)
        if subscription.status != "active":
            return page("Checkout", '<p role="alert">Your card was declined.</p>', 402)
        session.subscription, session.status = subscription.id, "complete"
        schedule_webhook(ls.Event("checkout.session.completed", session))
        raise web.HTTPSeeOther(session.success_url)

    async def portal_page(request: web.Request) -> web.Response:
        session = PortalSession._api_retrieve(request.match_info["id"])
        subscriptions = ls.Subscription._api_list_all(None, customer=session.customer)._list
        invoices = ls.Invoice._api_list_all(None, customer=session.customer)._list
        rows = "".join(
            f"<li>Subscription {s.id}: {s.status}"
            + (
                f'<form method="post" action="{session.url}/cancel/{s.id}">'
                "<button type=submit>Cancel subscription</button></form>"
                if s.status not in ("canceled", "incomplete_expired")
                else ""
            )
            + "</li>"
            for s in subscriptions
        )
        unpaid = sum(i.amount_due for i in invoices if i.status == "open")
        due = f"<p>Unpaid: ${unpaid / 100:,.2f}</p>" if unpaid else ""
        form = _CARD_FORM.format(action=f"{session.url}/card", button="Update card and pay")
        notice = request.query.get("done", "")
        done = f'<p role="status">{escape(notice)}</p>' if notice else ""
        back = f'<p><a href="{escape(session.return_url)}">Return to the site</a></p>'
        return page("Billing portal", f"{done}<ul>{rows}</ul>{due}{form}{back}")

    async def portal_card(request: web.Request) -> web.Response:
        session = PortalSession._api_retrieve(request.match_info["id"])
        form = await request.post()
        try:
            use_card(session.customer, form.get("number", ""))
            for invoice in ls.Invoice._api_list_all(None, customer=session.customer)._list:
                if invoice.status == "open":
                    ls.Invoice._api_pay_invoice(invoice.id)
        except ls.UserError as error:
            return page("Billing portal", f'<p role="alert">{escape(refusal(error))}</p>', 402)
        raise web.HTTPSeeOther(f"{session.url}?done=Card+updated")

    async def portal_cancel(request: web.Request) -> web.Response:
        session = PortalSession._api_retrieve(request.match_info["id"])
        subscription = ls.Subscription._api_retrieve(request.match_info["sub"])
        if subscription.customer != session.customer:
            raise ls.UserError(404, "Not Found")
        ls.Subscription._api_delete(subscription.id)
        raise web.HTTPSeeOther(f"{session.url}?done=Subscription+canceled")

    app.router.add_post("/v1/checkout/sessions", api_create(CheckoutSession, None))
    app.router.add_post("/v1/billing_portal/sessions", api_create(PortalSession, None))
    app.router.add_get("/_config/hosted/checkout/{id}", checkout_page)
    app.router.add_post("/_config/hosted/checkout/{id}", checkout_pay)
    app.router.add_get("/_config/hosted/portal/{id}", portal_page)
    app.router.add_post("/_config/hosted/portal/{id}/card", portal_card)
    app.router.add_post("/_config/hosted/portal/{id}/cancel/{sub}", portal_cancel)


_base = ""

if __name__ == "__main__":
    from localstripe.server import start

    _base = f"http://127.0.0.1:{sys.argv[sys.argv.index('--port') + 1]}"
    _add_hosted_pages()
    start()
