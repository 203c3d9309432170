"""Built-in services that the seed examples name, so they run out of the box.

They are deliberately small: they check and compute from their input and the instance's
variables, and return what the next steps need.
"""

from __future__ import annotations

from typing import Any

from processes.registry import ServiceContext, service


def _order(ctx: ServiceContext) -> dict[str, Any]:
    return {**ctx.variables, **ctx.input}


@service("validate-order")
@service("OrderValidationService.validate")
def validate_order(ctx: ServiceContext) -> dict[str, Any]:
    order = _order(ctx)
    amount = order.get("total_amount", order.get("amount", 0))
    problems = []
    if not order.get("order_id"):
        problems.append("order_id is missing")
    if not isinstance(amount, int | float) or isinstance(amount, bool) or amount < 0:
        problems.append("the amount must be a number of at least 0")
    return {"valid": not problems, "validation_problems": problems}


@service("check-inventory")
def check_inventory(ctx: ServiceContext) -> dict[str, Any]:
    items = _order(ctx).get("items") or []
    short = [item.get("sku") for item in items if item.get("quantity", 1) > item.get("stock", 1)]
    return {"in_stock": not short, "out_of_stock": short}


@service("create-payment")
def create_payment(ctx: ServiceContext) -> dict[str, Any]:
    order = _order(ctx)
    reference = f"PAY-{order.get('order_id') or ctx.business_key or ctx.instance_id}"
    return {"payment_id": reference, "payment_status": "created"}


@service("record-leave")
def record_leave(ctx: ServiceContext) -> dict[str, Any]:
    """Both approvals are in (the parallel join waited for them): record the decision."""
    approved = bool(ctx.variables.get("hr_approved")) and bool(
        ctx.variables.get("manager_approved")
    )
    return {"leave_status": "approved" if approved else "rejected"}


@service("expense.auto_approve")
def approve_expense_automatically(ctx: ServiceContext) -> dict[str, Any]:
    """The gateway sends only small amounts here, so the decision is always yes."""
    return {"approved": True, "comments": "Approved automatically (1,000 or less)."}


@service("expense.notify")
def notify_requester(ctx: ServiceContext) -> dict[str, Any]:
    """Composes the message the requester is sent; a mail gateway would deliver it."""
    outcome = "approved" if ctx.variables.get("approved") else "rejected"
    subject = ctx.business_key or ctx.variables.get("description") or ctx.instance_id
    message = f"Your expense {subject} was {outcome}."
    if ctx.variables.get("comments"):
        message += f" Comments: {ctx.variables['comments']}"
    return {"notification": message}


@service("invoice.send")
def send_invoice(ctx: ServiceContext) -> dict[str, Any]:
    """Composes the invoice a mail gateway would send; the payment comes back as a message."""
    return {"invoice_status": "sent", "payment_reference": ctx.variables.get("invoice_id")}


@service("invoice.book")
def book_payment(ctx: ServiceContext) -> dict[str, Any]:
    return {"invoice_status": "paid"}


@service("remind-approver")
@service("expense.remind")
def remind_approvers(ctx: ServiceContext) -> dict[str, Any]:
    """A reminder that an approval still waits (a non-interrupting boundary timer's path):
    composes the message a mail gateway would send and counts the reminders in the instance.
    Its result is recorded once per firing, so the count is right even if a step re-runs."""
    sent = int(ctx.variables.get("reminders_sent") or 0) + 1
    subject = (
        ctx.business_key
        or ctx.variables.get("description")
        or ctx.variables.get("employee")
        or ctx.instance_id
    )
    return {
        "reminders_sent": sent,
        "last_reminder": f"Reminder {sent}: {subject} still waits for your approval.",
    }


# The order saga (examples/order-saga.json): each step returns what its undo needs.

SHIPPING_ZONES = ("Berlin", "Paris", "Madrid", "Rome", "Vienna")


class ShippingFailed(Exception):
    """No carrier delivers to the destination."""


@service("Inventory.reserve")
def reserve_stock(ctx: ServiceContext) -> dict[str, Any]:
    return {"reservation_id": f"RES-{ctx.input.get('order_id')}", "stock_reserved": True}


@service("Inventory.release")
def release_stock(ctx: ServiceContext) -> dict[str, Any]:
    return {"stock_reserved": False, "released": ctx.input.get("reservation_id")}


@service("Payments.charge")
def charge_card(ctx: ServiceContext) -> dict[str, Any]:
    return {"payment_id": f"PAY-{ctx.input.get('order_id')}", "charged": ctx.input.get("amount")}


@service("Payments.refund")
def refund_card(ctx: ServiceContext) -> dict[str, Any]:
    return {"charged": 0, "refunded": ctx.input.get("amount"), "refund_of": ctx.input["payment_id"]}


@service("Shipping.ship")
def ship_parcel(ctx: ServiceContext) -> dict[str, Any]:
    destination = ctx.input.get("destination")
    if destination not in SHIPPING_ZONES:
        raise ShippingFailed(f"no carrier delivers to {destination!r}")
    return {"tracking_number": f"TRK-{ctx.input.get('order_id')}"}
