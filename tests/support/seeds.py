"""The definitions the product was conceived from, read from ../shared/seeds when present."""

SEED_000_YAML = """\
apiVersion: api.example.com/v1
kind: WorkflowDefinition
metadata:
  name: order-processing-workflow
spec:
  version: "1.0"
  description: "Order processing workflow"
  startAt: "validate_order"
  states:
    - name: "validate_order"
      type: "task"
      resource: "arn:aws:lambda:us-east-1:123456789012:function:validate-order"
      timeout: 30
      retry:
        - errorEquals: ["States.ALL"]
          intervalSeconds: 2
          maxAttempts: 3
          backoffRate: 2.0
      next: "check_inventory"

    - name: "check_inventory"
      type: "task"
      resource: "arn:aws:lambda:us-east-1:123456789012:function:check-inventory"
      timeout: 30
      next: "create_payment"

    - name: "create_payment"
      type: "task"
      resource: "arn:aws:lambda:us-east-1:123456789012:function:create-payment"
      timeout: 30
      end: true
"""
