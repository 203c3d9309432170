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
